#include "redact/render.hpp"

#include "media/av.hpp"
#include "media/draw.hpp"
#include "media/encode.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace bwv::redact {

namespace {

using media::av::CodecPtr;
using media::av::FramePtr;
using media::av::PacketPtr;

std::unexpected<Error> av_fail(const fs::Path& subject, std::string_view what, int err) {
  return fail(Errc::check_failed, subject, std::string(what) + ": " + media::av::message(err));
}

// Where a packet lies in the file: pass one finds them all, pass two reads a GOP at a time.
struct PacketRef {
  std::int64_t pts = 0, dts = 0, duration = 0;
  bool key = false;
  std::int64_t pos = 0;
  int size = 0;
};

struct Gop {
  std::vector<PacketRef> video;
  std::vector<PacketRef> audio;
};

// MP4 stores H.264 as 4-byte lengths before each unit; the encoder and muxer speak Annex B.
std::vector<unsigned char> annexb(const std::vector<unsigned char>& avcc) {
  std::vector<unsigned char> out;
  out.reserve(avcc.size() + 16);
  std::size_t i = 0;
  while (i + 4 <= avcc.size()) {
    const std::size_t n =
        std::size_t(avcc[i]) << 24 | std::size_t(avcc[i + 1]) << 16 | std::size_t(avcc[i + 2]) << 8 | avcc[i + 3];
    i += 4;
    if (n > avcc.size() - i) break;
    out.insert(out.end(), {0, 0, 0, 1});
    out.insert(out.end(), avcc.begin() + static_cast<std::ptrdiff_t>(i),
               avcc.begin() + static_cast<std::ptrdiff_t>(i + n));
    i += n;
  }
  return out;
}

bool has_unit(const std::vector<unsigned char>& b, int type) {
  for (std::size_t k = 0; k + 3 < b.size(); ++k)
    if (b[k] == 0 && b[k + 1] == 0 && b[k + 2] == 1 && (b[k + 3] & 0x1f) == type) return true;
  return false;
}

Result<CodecPtr> open_decoder(const AVStream* st, const fs::Path& subject) {
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) return fail(Errc::check_failed, subject, "no decoder for its codec");
  CodecPtr c(avcodec_alloc_context3(codec));
  if (!c) return fail(Errc::internal, subject, "out of memory");
  avcodec_parameters_to_context(c.get(), st->codecpar);
  c->pkt_timebase = st->time_base;
  // Decoding on every core gives the same pictures as on one, so the output bytes stay the same.
  c->thread_count = 0;
  if (const int rc = avcodec_open2(c.get(), codec, nullptr); rc < 0) return av_fail(subject, "open decoder", rc);
  return c;
}

void apply(AVFrame* f, const Look& look, const Rect& r) {
  const media::Rect mr{r.x, r.y, r.w, r.h};
  switch (look.method) {
  case Method::fill: media::fill(f, mr, look.color.r, look.color.g, look.color.b); break;
  case Method::pixelate: media::pixelate(f, mr, look.block); break;
  case Method::blur: media::blur(f, mr, look.radius); break;
  }
}

void redact_frame(AVFrame* f, const Spec& spec, std::int64_t ms, std::int64_t next_ms) {
  if (const FrameRange* fr = range_for_frame(spec, ms, next_ms)) apply(f, fr->look, {0, 0, f->width, f->height});
  for (const auto& b : spec.boxes)
    if (const auto r = box_for_frame(b, ms, next_ms))
      if (const auto c = clipped(*r, f->width, f->height)) apply(f, b.look, *c);
}

} // namespace

Result<RenderStats> render(const fs::Path& in, const Spec& spec, const fs::Path& out, const RenderOptions& options,
                           const std::function<Result<void>(int, int, std::int64_t)>& check,
                           const std::function<void(int, int)>& progress) {
  // ---- the original: streams, then where every packet is ----
  AVFormatContext* raw = nullptr;
  if (const int rc = avformat_open_input(&raw, in.c_str(), nullptr, nullptr); rc < 0) return av_fail(in, "open", rc);
  media::av::InputPtr fmt(raw);
  if (const int rc = avformat_find_stream_info(fmt.get(), nullptr); rc < 0) return av_fail(in, "read", rc);
  const int vi = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (vi < 0) return fail(Errc::check_failed, in, "no video stream");
  const int ai = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  AVStream* vs = fmt->streams[vi];
  AVStream* as = ai >= 0 ? fmt->streams[ai] : nullptr;
  // The base rate; the average is off when a file's last frame is short.
  const AVRational rate = vs->r_frame_rate.den == 1 ? vs->r_frame_rate : vs->avg_frame_rate;
  if (vs->codecpar->codec_id != AV_CODEC_ID_H264 || vs->codecpar->format != AV_PIX_FMT_YUV420P || rate.den != 1)
    return fail(Errc::check_failed, in, "not H.264 4:2:0 at a whole frame rate; bwv-redact reads bwv's video only");
  if (as && (as->codecpar->codec_id != AV_CODEC_ID_AAC || as->codecpar->sample_rate != 48000 ||
             as->codecpar->ch_layout.nb_channels != 1))
    return fail(Errc::check_failed, in, "sound is not AAC, 48 kHz, mono; bwv-redact reads bwv's video only");

  RenderStats stats;
  stats.width = vs->codecpar->width;
  stats.height = vs->codecpar->height;
  stats.fps = rate.num;
  stats.duration_ms = fmt->duration > 0 ? fmt->duration / 1000 : 0;
  BWV_CHECK(check(stats.width, stats.height, stats.duration_ms));

  std::vector<Gop> gops;
  std::vector<PacketRef> audio;
  std::uint64_t video_bytes = 0;
  bool smart = !options.full;
  {
    PacketPtr pkt(av_packet_alloc());
    while (av_read_frame(fmt.get(), pkt.get()) >= 0) {
      PacketRef p{pkt->pts, pkt->dts, pkt->duration, (pkt->flags & AV_PKT_FLAG_KEY) != 0, pkt->pos, pkt->size};
      if (pkt->stream_index == vi) {
        if (p.key || gops.empty()) gops.emplace_back();
        if (p.pts != p.dts) smart = false; // reordered frames: not bwv's encoding
        video_bytes += static_cast<std::uint64_t>(p.size);
        gops.back().video.push_back(p);
      } else if (pkt->stream_index == ai) {
        audio.push_back(p);
      }
      if (p.pos < 0) return fail(Errc::check_failed, in, "a packet without a file position");
      av_packet_unref(pkt.get());
    }
  }
  if (gops.empty() || !gops.front().video.front().key)
    return fail(Errc::check_failed, in, "does not start with a keyframe");
  // The copy's time 0 is the first picture (a file with B-frames often shows it a little after 0):
  // spec times count from it, and the sound is moved with the picture.
  std::int64_t first_pts = gops.front().video.front().pts;
  for (const auto& g : gops)
    for (const auto& p : g.video)
      first_pts = std::min(first_pts, p.pts);
  // Sound goes with the GOP its time falls in.
  for (const auto& a : audio) {
    const std::int64_t t = av_rescale_q(a.pts, as->time_base, vs->time_base);
    std::size_t g = 0;
    while (g + 1 < gops.size() && gops[g + 1].video.front().pts <= t)
      ++g;
    gops[g].audio.push_back(a);
  }

  fs::Fd src = BWV_TRY(fs::open_regular(in));
  auto read_packet = [&](const PacketRef& p) -> Result<std::vector<unsigned char>> {
    std::vector<unsigned char> d(static_cast<std::size_t>(p.size));
    if (::pread(src.get(), d.data(), d.size(), p.pos) != static_cast<ssize_t>(d.size()))
      return fail(Errc::check_failed, in, "cannot read a packet at " + std::to_string(p.pos));
    return d;
  };
  // Smart rendering needs every GOP to start with an IDR that carries its SPS (bwv's settings).
  if (smart)
    for (const auto& g : gops)
      if (!g.video.front().key || !has_unit(annexb(BWV_TRY(read_packet(g.video.front()))), 7)) {
        smart = false;
        break;
      }

  // ---- the copy ----
  const int kbps = std::max<int>(100, static_cast<int>(video_bytes * 8 / std::max<std::int64_t>(1, stats.duration_ms)));
  auto venc = BWV_TRY(media::VideoEncoder::open({.width = stats.width,
                                                 .height = stats.height,
                                                 .fps = stats.fps,
                                                 .bitrate_kbps = kbps,
                                                 .preset = options.preset,
                                                 .qp = options.qp}));
  std::optional<media::AudioEncoder> aenc;
  if (as) aenc.emplace(BWV_TRY(media::AudioEncoder::open({})));
  auto vdec = BWV_TRY(open_decoder(vs, in));
  const AVRational frame_tb{1, stats.fps}, sample_tb{1, 48000}, ms_tb{1, 1000};
  const std::int64_t v_off = av_rescale_q(first_pts, vs->time_base, frame_tb);
  const std::int64_t a_off = av_rescale_q(first_pts, vs->time_base, sample_tb);
  // Sound is copied packet for packet when nothing in it is redacted and it starts with the
  // picture (bwv's does); otherwise decoded and encoded again, sample-exact from the first picture.
  std::optional<CodecPtr> adec;
  if (as &&
      (!spec.audio.empty() || audio.empty() || av_rescale_q(audio.front().pts, as->time_base, sample_tb) != a_off))
    adec.emplace(BWV_TRY(open_decoder(as, in)));
  stats.encoder = venc.description() + (as ? " aac 48000Hz mono 64kbps" : "");

  fs::Fd dst(::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!dst) return fail_errno(out, "create", errno);
  manifest::VideoHasher hasher;
  std::vector<manifest::Fragment> fragments;
  auto sink = [&](std::span<const unsigned char> b) -> Result<void> {
    // Each piece is the init segment or one fragment: hashed as it goes by, never read back.
    if (b.empty()) return {};
    BWV_CHECK(fs::write_all(dst.get(), b.data(), b.size(), out));
    fragments.push_back(
        {hasher.size(), b.size(), crypto::sha256_hex({reinterpret_cast<const char*>(b.data()), b.size()})});
    hasher.update(b.data(), b.size());
    return {};
  };
  std::optional<media::Fmp4Writer> mux;

  const auto spans = touched_spans(spec);
  PacketPtr pkt(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  std::vector<media::Packet> pending_audio; // re-encoded sound not yet written
  std::vector<float> fifo;                  // decoded sound from sample `encoded` on
  std::int64_t encoded = 0;                 // samples handed to the encoder, from time 0
  auto encode_sound = [&](int n) -> Result<void> {
    AVFrame* e = aenc->frame();
    const int full = e->nb_samples;
    e->nb_samples = n;
    std::copy_n(fifo.begin(), n, reinterpret_cast<float*>(e->data[0]));
    for (const auto& r : spec.audio) {
      const std::int64_t from = r.from_ms * 48, to = r.to_ms * 48;
      if (r.method == AudioMethod::mute)
        media::mute(e, encoded, from, to);
      else
        media::bleep(e, encoded, from, to, 48000);
    }
    auto done = aenc->encode(encoded, pending_audio);
    e->nb_samples = full;
    BWV_CHECK(std::move(done));
    fifo.erase(fifo.begin(), fifo.begin() + n);
    encoded += n;
    return {};
  };

  for (std::size_t gi = 0; gi < gops.size(); ++gi) {
    const Gop& g = gops[gi];
    // On the frame grid the redaction uses: a frame is touched by its grid time, not its stamp.
    auto grid_ms = [&](std::int64_t pts) {
      return av_rescale_q(av_rescale_q(pts, vs->time_base, frame_tb) - v_off, frame_tb, ms_tb);
    };
    const std::int64_t t0 = grid_ms(g.video.front().pts);
    const std::int64_t t1 =
        gi + 1 < gops.size() ? grid_ms(gops[gi + 1].video.front().pts) : std::max(stats.duration_ms, t0 + 1);
    const bool touched =
        !smart || std::any_of(spans.begin(), spans.end(), [&](const auto& s) { return s.first < t1 && t0 < s.second; });
    std::vector<media::Packet> vout;
    if (!touched) {
      for (const auto& p : g.video) {
        media::Packet mp;
        mp.data = annexb(BWV_TRY(read_packet(p)));
        media::strip_sei(mp.data); // user data (a serial, a place) never passes; bwv's own has none
        mp.pts = av_rescale_q(p.pts, vs->time_base, frame_tb) - v_off;
        mp.dts = av_rescale_q(p.dts, vs->time_base, frame_tb) - v_off;
        mp.duration = av_rescale_q(p.duration, vs->time_base, frame_tb);
        mp.key = p.key;
        vout.push_back(std::move(mp));
      }
    } else {
      ++stats.reencoded;
      bool first = true;
      auto take_frames = [&]() -> Result<void> {
        for (;;) {
          const int rc = avcodec_receive_frame(vdec.get(), frame.get());
          if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return {};
          if (rc < 0) return av_fail(in, "decode", rc);
          const std::int64_t pts = av_rescale_q(frame->best_effort_timestamp, vs->time_base, frame_tb) - v_off;
          const std::int64_t ms = av_rescale_q(pts, frame_tb, ms_tb);
          const std::int64_t next_ms = av_rescale_q(pts + 1, frame_tb, ms_tb);
          AVFrame* e = venc.frame();
          av_frame_copy(e, frame.get());
          redact_frame(e, spec, ms, next_ms);
          BWV_CHECK(venc.encode(pts, first, vout));
          first = false;
          av_frame_unref(frame.get());
        }
      };
      for (const auto& p : g.video) {
        auto d = BWV_TRY(read_packet(p));
        av_new_packet(pkt.get(), static_cast<int>(d.size()));
        std::memcpy(pkt->data, d.data(), d.size());
        pkt->pts = p.pts;
        pkt->dts = p.dts;
        pkt->flags = p.key ? AV_PKT_FLAG_KEY : 0;
        const int rc = avcodec_send_packet(vdec.get(), pkt.get());
        av_packet_unref(pkt.get());
        if (rc < 0) return av_fail(in, "decode", rc);
        BWV_CHECK(take_frames());
      }
      // Each GOP stands alone: drain the decoder, and start it afresh for the next.
      avcodec_send_packet(vdec.get(), nullptr);
      BWV_CHECK(take_frames());
      avcodec_flush_buffers(vdec.get());
    }
    if (!mux) mux.emplace(BWV_TRY(media::Fmp4Writer::open(venc, aenc ? &*aenc : nullptr, vout.front(), sink)));
    for (const auto& p : vout)
      BWV_CHECK(mux->write_video(p));

    if (as && !adec) {
      // No sound is redacted: copied as it is.
      for (const auto& p : g.audio) {
        media::Packet mp;
        mp.data = BWV_TRY(read_packet(p));
        mp.pts = av_rescale_q(p.pts, as->time_base, sample_tb) - a_off;
        mp.dts = av_rescale_q(p.dts, as->time_base, sample_tb) - a_off;
        mp.duration = av_rescale_q(p.duration, as->time_base, sample_tb);
        mp.key = true;
        BWV_CHECK(mux->write_audio(mp));
      }
    } else if (adec) {
      // Sound is redacted: decoded, muted or bleeped in its ranges, and encoded again.
      for (const auto& p : g.audio) {
        auto d = BWV_TRY(read_packet(p));
        av_new_packet(pkt.get(), static_cast<int>(d.size()));
        std::memcpy(pkt->data, d.data(), d.size());
        pkt->pts = p.pts;
        pkt->dts = p.dts;
        const int rc = avcodec_send_packet(adec->get(), pkt.get());
        av_packet_unref(pkt.get());
        if (rc < 0) return av_fail(in, "decode sound", rc);
        while (avcodec_receive_frame(adec->get(), frame.get()) == 0) {
          if (frame->format != AV_SAMPLE_FMT_FLTP && frame->format != AV_SAMPLE_FMT_FLT)
            return fail(Errc::check_failed, in, "decoded sound is not in floating point");
          // Samples before the first picture are dropped; a gap (or a late start) is silence.
          std::int64_t at = av_rescale_q(frame->best_effort_timestamp, as->time_base, sample_tb) - a_off;
          const auto* samples = reinterpret_cast<const float*>(frame->extended_data[0]);
          const std::int64_t end = encoded + static_cast<std::int64_t>(fifo.size());
          if (at > end) fifo.resize(fifo.size() + static_cast<std::size_t>(at - end), 0.0f);
          for (int i = 0; i < frame->nb_samples; ++i)
            if (at + i >= encoded + static_cast<std::int64_t>(fifo.size())) fifo.push_back(samples[i]);
          while (fifo.size() >= static_cast<std::size_t>(aenc->frame()->nb_samples))
            BWV_CHECK(encode_sound(aenc->frame()->nb_samples));
          av_frame_unref(frame.get());
        }
      }
      if (gi + 1 == gops.size() && !fifo.empty()) BWV_CHECK(encode_sound(static_cast<int>(fifo.size())));
      if (gi + 1 == gops.size()) BWV_CHECK(aenc->flush(pending_audio));
      for (const auto& p : pending_audio)
        if (p.pts >= 0) BWV_CHECK(mux->write_audio(p));
      pending_audio.clear();
    }
    BWV_CHECK(mux->fragment());
    ++stats.gops;
    if (progress) progress(stats.gops, static_cast<int>(gops.size()));
  }
  if (::fsync(dst.get()) != 0) return fail_errno(out, "fsync", errno);
  stats.smart = smart;
  stats.video = hasher.finish();
  stats.video.fragments = std::move(fragments);
  return stats;
}

} // namespace bwv::redact
