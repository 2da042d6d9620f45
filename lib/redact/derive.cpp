#include "redact/derive.hpp"

#include "core/text.hpp"
#include "crypto/hash.hpp"
#include "store/policy.hpp"
#include "store/retain.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace bwv::redact {

namespace {

// A bad spec is a bad argument: exit 2, like any other usage error.
Error as_usage(Error e) {
  e.code = Errc::usage;
  return e;
}

json::Value custody_details(const Derived& d) {
  const manifest::Derivation& f = *d.manifest.derived_from;
  json::Value v = json::Value::object();
  v["original"] = f.clip_id;
  v["original_manifest_sha256"] = f.manifest_sha256;
  v["original_video_sha256"] = f.video_sha256;
  v["spec_sha256"] = f.spec_sha256;
  v["reason"] = f.reason;
  v["render"] = f.render;
  v["gops"] = f.gops;
  v["reencoded_gops"] = f.reencoded_gops;
  v["manifest_sha256"] = d.manifest_sha256;
  v["video_sha256"] = d.manifest.video.sha256;
  v["size"] = d.manifest.video.size;
  return v;
}

// Records the derivative and gives it its retention, if a crash stopped an earlier run short of
// either. The caller holds the policy lock, so a flag on the original cannot slip in between.
Result<void> complete(const store::Store& store, const store::Policy& policy, const custody::Actor& actor,
                      const Derived& d) {
  if (!BWV_TRY(custody::ClipIndex([&store] { return store.custody_logs(); }, "redact").has(d.id)))
    BWV_CHECK(store.append_custody(actor, {{"redact", d.id, custody_details(d)}}));
  const store::StoredClip clip = BWV_TRY(store.load_clip(d.id));
  return store::settle_expiry(store, policy, clip, BWV_TRY(store::load_flags(store, d.id)));
}

} // namespace

Result<Derived> derive(const store::Store& store, const custody::Actor& actor, const std::string& id,
                       std::string_view spec_bytes, const std::string& spec_subject, const DeriveOptions& options,
                       const std::function<void(int, int)>& progress) {
  auto store_lock = BWV_TRY(store.lock_store(fs::Lock::Mode::shared, options.wait_seconds));
  if (options.reason.size() > 4096) return fail(Errc::usage, "--reason", "longer than 4096 bytes");
  const Spec spec = BWV_TRY(map_error(parse(spec_bytes, spec_subject), as_usage));
  const std::string spec_sha256 = crypto::sha256_hex(spec_bytes);
  // A broken policy stops the run before anything is made: a derivative needs its expiry entry.
  const store::Policy policy = BWV_TRY(store::Policy::load(store));

  // The original: a signed camera clip whose video is still here and still what it signed.
  const store::StoredClip original = BWV_TRY(store.load_clip(id));
  if (original.manifest.derived_from)
    return fail(Errc::usage, id,
                "is itself a redacted copy of " + original.manifest.derived_from->clip_id + "; redact the original");
  if (spec.clip_id && *spec.clip_id != id)
    return fail(Errc::usage, spec_subject, "is for clip " + *spec.clip_id + ", not " + id);

  // The same original, spec and request were made into a derivative before: the same bytes again.
  // Looked for first, so that a run cut short after placing one is completed even once the
  // original's video has gone by policy.
  auto same = [&](const manifest::Derivation& f) {
    return f.manifest_sha256 == original.manifest_sha256 && f.spec_sha256 == spec_sha256 &&
           (f.requested == "full") == options.full;
  };
  auto find_existing = [&]() -> Result<std::optional<Derived>> {
    for (const auto& d : BWV_TRY(store.derivatives(id))) {
      auto c = store.load_clip(d);
      if (!c) continue; // a damaged one is bwv-verify's to report; it is not the one asked for
      if (c->manifest.derived_from && same(*c->manifest.derived_from) && !BWV_TRY(store::Tombstone::load(*c)))
        return Derived{d, id, true, c->manifest, c->manifest_sha256};
    }
    return std::nullopt;
  };
  if (auto existing = BWV_TRY(find_existing())) {
    auto policy_lock =
        BWV_TRY(fs::Lock::acquire(store.root() / "locks/policy", fs::Lock::Mode::exclusive, options.wait_seconds));
    BWV_CHECK(complete(store, policy, actor, *existing));
    return *existing;
  }

  // The original: a signed camera clip whose video is still here and still what it signed.
  auto check_original = [&]() -> Result<void> {
    if (const auto t = BWV_TRY(store::Tombstone::load(original)))
      return fail(Errc::check_failed, id, "its video was deleted by policy on " + text::format_time(t->deleted));
    if (BWV_TRY(fs::kind_of(original.video())) != fs::Kind::regular)
      return fail(Errc::check_failed, original.video(), "missing; run bwv-verify");
    return {};
  };
  BWV_CHECK(check_original());
  BWV_CHECK(store.check_signature(original));
  const auto digest = BWV_TRY(crypto::sha256_file(original.video()));
  if (crypto::hex(digest) != original.manifest.video.sha256)
    return fail(Errc::check_failed, original.video(), "does not match its signed manifest; run bwv-verify");
  // Before the render: a key that cannot be used (mode, replaced) is refused without the work.
  const auto sign_key = BWV_TRY(store.secret_key());

  // Rendered aside, in a directory cleared by the next bwv-pull or bwv-redact if this one dies.
  store.remove_stale_tmp(actor.host);
  const fs::Path dir = store.staging_path(actor.host, "redact." + id);
  if (::mkdir(dir.c_str(), 0755) != 0) return fail_errno(dir, "mkdir", errno);
  fs::ScratchDir cleanup(dir);

  RenderOptions ro;
  ro.full = options.full;
  ro.preset = options.preset;
  const RenderStats stats = BWV_TRY(render(
      original.video(), spec, dir / "video.mp4", ro,
      [&](int w, int h, std::int64_t ms) { return map_error(check_against(spec, w, h, ms, spec_subject), as_usage); },
      progress));

  Derived d;
  d.original = id;
  d.manifest = original.manifest;
  d.manifest.key_id = crypto::key_id_string(sign_key.id());
  d.manifest.video = stats.video;
  d.manifest.derived_from = manifest::Derivation{
      .clip_id = id,
      .manifest_sha256 = original.manifest_sha256,
      .video_sha256 = original.manifest.video.sha256,
      .method = "redaction",
      .spec_sha256 = spec_sha256,
      .reason = options.reason,
      .created = std::time(nullptr),
      .by = actor.user + "@" + actor.host,
      .encoder = stats.encoder,
      .render = stats.smart ? "smart" : "full",
      .requested = options.full ? "full" : "smart",
      .gops = static_cast<std::uint64_t>(stats.gops),
      .reencoded_gops = static_cast<std::uint64_t>(stats.reencoded),
  };

  // Numbered, signed and put in place under the policy lock: one number per derivative, and its
  // retention settled before any flag on the original can change.
  auto policy_lock =
      BWV_TRY(fs::Lock::acquire(store.root() / "locks/policy", fs::Lock::Mode::exclusive, options.wait_seconds));
  if (auto existing = BWV_TRY(find_existing())) { // made by another run meanwhile
    BWV_CHECK(complete(store, policy, actor, *existing));
    return *existing;
  }
  // Retention may have deleted the original while this rendered: no copy of what policy deleted.
  BWV_CHECK(check_original());
  const fs::Path day = fs::Path("clips") / id.substr(0, 4) / id.substr(4, 2) / id.substr(6, 2);
  for (unsigned n = static_cast<unsigned>(BWV_TRY(store.derivatives(id)).size()) + 1;; ++n) {
    d.id = manifest::derivative_id(id, n);
    d.manifest.clip_id = d.id;
    const std::string bytes = manifest::write(d.manifest);
    // What is signed must load again (a very long video's chunk list could outgrow a manifest).
    BWV_CHECK(map_error(manifest::parse(bytes, d.id), [](Error e) {
      e.code = Errc::internal;
      return e;
    }));
    d.manifest_sha256 = crypto::sha256_hex(bytes);
    const auto sig = crypto::sign(sign_key, bytes, manifest::trusted_comment(d.manifest, d.manifest_sha256),
                                  "derivative signed by bwv store " + store.config().store_id);
    for (const char* name : {"manifest.json", "manifest.json.minisig"})
      (void)fs::remove_file(dir / name);
    BWV_CHECK(fs::write_staged(dir / "manifest.json", bytes));
    BWV_CHECK(fs::write_staged(dir / "manifest.json.minisig", sig.to_file()));
    for (const char* name : {"video.mp4", "manifest.json", "manifest.json.minisig"})
      BWV_CHECK(fs::fsync_path(dir / name));
    BWV_CHECK(fs::fsync_path(dir));
    BWV_CHECK(fs::make_dirs(store.root(), day));
    if (BWV_TRY(fs::rename_noreplace(dir, BWV_TRY(store.clip_dir(d.id))))) break;
  }
  cleanup.keep();
  BWV_CHECK(fs::fsync_path(store.root() / day));
  BWV_CHECK(complete(store, policy, actor, d));
  return d;
}

} // namespace bwv::redact
