#include "redact/render.hpp"

#include "media/encode.hpp"
#include "tmpdir.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

using namespace bwv;
using bwv::test::why;

TEST_SUITE_BEGIN("redact::render");

namespace {

constexpr int W = 160, H = 120, FPS = 10, SECONDS = 4;

// A bwv clip as the camera makes it: 1 s closed GOPs, a fragment each, AAC sound (a tone).
std::string make_clip() {
  auto v = media::VideoEncoder::open({.width = W, .height = H, .fps = FPS, .bitrate_kbps = 300, .preset = "ultrafast"});
  auto a = media::AudioEncoder::open({});
  REQUIRE(v);
  REQUIRE(a);
  std::string file;
  std::optional<media::Fmp4Writer> w;
  std::int64_t sample = 0;
  for (int s = 0; s < SECONDS; ++s) {
    std::vector<media::Packet> vp, ap;
    for (int i = 0; i < FPS; ++i) {
      const std::int64_t n = s * FPS + i;
      AVFrame* f = v->frame();
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) f->data[0][y * f->linesize[0] + x] = static_cast<std::uint8_t>(60 + (x + y + n) % 120);
      for (int y = 0; y < H / 2; ++y)
        for (int x = 0; x < W / 2; ++x) f->data[1][y * f->linesize[1] + x] = f->data[2][y * f->linesize[2] + x] = 128;
      REQUIRE(v->encode(n, i == 0, vp));
    }
    while (sample < (s + 1) * 48000) {
      auto* d = reinterpret_cast<float*>(a->frame()->data[0]);
      for (int i = 0; i < a->frame_samples(); ++i) d[i] = 0.3f * static_cast<float>(std::sin(2 * M_PI * 440 * double(sample + i) / 48000));
      REQUIRE(a->encode(sample, ap));
      sample += a->frame_samples();
    }
    if (!w) {
      auto opened = media::Fmp4Writer::open(*v, &*a, vp[0], [&](std::span<const unsigned char> b) -> Result<void> {
        file.append(reinterpret_cast<const char*>(b.data()), b.size());
        return {};
      });
      REQUIRE(opened);
      w.emplace(std::move(*opened));
    }
    for (const auto& p : vp) REQUIRE(w->write_video(p));
    for (const auto& p : ap)
      if (p.pts >= 0) REQUIRE(w->write_audio(p));
    REQUIRE(w->fragment());
  }
  return file;
}

struct Decoded {
  std::vector<std::vector<std::uint8_t>> luma; // W*H per frame
  std::vector<float> sound;
  std::vector<std::vector<std::uint8_t>> video_packets;
  int errors = 0;
};

Decoded decode(const fs::Path& path) {
  Decoded out;
  AVFormatContext* fmt = nullptr;
  REQUIRE(avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) == 0);
  REQUIRE(avformat_find_stream_info(fmt, nullptr) >= 0);
  AVCodecContext* dec[2] = {};
  for (unsigned i = 0; i < fmt->nb_streams && i < 2; ++i) {
    dec[i] = avcodec_alloc_context3(avcodec_find_decoder(fmt->streams[i]->codecpar->codec_id));
    avcodec_parameters_to_context(dec[i], fmt->streams[i]->codecpar);
    REQUIRE(avcodec_open2(dec[i], nullptr, nullptr) == 0);
  }
  AVPacket* pkt = av_packet_alloc();
  AVFrame* f = av_frame_alloc();
  auto drain = [&](unsigned s) {
    while (avcodec_receive_frame(dec[s], f) == 0) {
      if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT)) ++out.errors;
      if (s == 0) {
        std::vector<std::uint8_t> y(W * H);
        for (int r = 0; r < H; ++r) std::memcpy(y.data() + r * W, f->data[0] + r * f->linesize[0], W);
        out.luma.push_back(std::move(y));
      } else {
        auto* d = reinterpret_cast<const float*>(f->data[0]);
        out.sound.insert(out.sound.end(), d, d + f->nb_samples);
      }
      av_frame_unref(f);
    }
  };
  while (av_read_frame(fmt, pkt) >= 0) {
    const unsigned s = static_cast<unsigned>(pkt->stream_index);
    if (s == 0) out.video_packets.emplace_back(pkt->data, pkt->data + pkt->size);
    if (avcodec_send_packet(dec[s], pkt) < 0) ++out.errors;
    drain(s);
    av_packet_unref(pkt);
  }
  for (unsigned s = 0; s < 2; ++s)
    if (dec[s]) {
      avcodec_send_packet(dec[s], nullptr);
      drain(s);
      avcodec_free_context(&dec[s]);
    }
  av_frame_free(&f);
  av_packet_free(&pkt);
  avformat_close_input(&fmt);
  return out;
}

redact::Spec spec_of(std::string_view json) {
  auto s = redact::parse(json, "spec.json");
  REQUIRE_MESSAGE(s, why(s));
  return *s;
}

Result<void> no_check(int, int, std::int64_t) { return {}; }

double rms(const std::vector<float>& s, std::size_t from, std::size_t to) {
  double sum = 0;
  for (std::size_t i = from; i < to && i < s.size(); ++i) sum += double(s[i]) * s[i];
  return std::sqrt(sum / double(std::max<std::size_t>(1, to - from)));
}

} // namespace

TEST_CASE("smart rendering re-encodes only the GOP a box touches, fills the box, copies the rest") {
  test::TmpDir dir;
  test::put_file(dir.path() / "in.mp4", make_clip());
  const auto spec = spec_of(R"({"bwv_redaction": 1, "boxes": [{"label": "face", "reason": "bystander",
    "keyframes": [{"t_ms": 1000, "x": 20, "y": 20, "w": 40, "h": 30}, {"t_ms": 1900, "x": 110, "y": 60, "w": 40, "h": 30}]}]})");
  const auto stats = redact::render(dir.path() / "in.mp4", spec, dir.path() / "out.mp4", {}, no_check);
  REQUIRE_MESSAGE(stats, why(stats));
  CHECK(stats->gops == SECONDS);
  CHECK(stats->reencoded == 1);
  const Decoded before = decode(dir.path() / "in.mp4"), after = decode(dir.path() / "out.mp4");
  CHECK(after.errors == 0);
  REQUIRE(after.luma.size() == before.luma.size());
  REQUIRE(after.video_packets.size() == before.video_packets.size());
  // Untouched GOPs: the same packets, bit for bit.
  for (std::size_t i = 0; i < before.video_packets.size(); ++i) {
    CAPTURE(i);
    if (i / FPS != 1) CHECK((after.video_packets[i] == before.video_packets[i]));
    else CHECK((after.video_packets[i] != before.video_packets[i]));
  }
  // Inside the moving box, black (Y 16, allowing for the encoder); outside it, the picture.
  for (int n = FPS; n < 2 * FPS; ++n) {
    CAPTURE(n);
    const auto r = redact::box_at(spec.boxes[0], n * 100);
    REQUIRE(r);
    int worst_inside = 0;
    double outside_err = 0;
    int outside_n = 0;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        const int v = after.luma[n][y * W + x];
        const bool near = x >= r->x - 4 && x < r->x + r->w + 4 && y >= r->y - 4 && y < r->y + r->h + 4;
        // Two pixels in from the edge: the encoder's blocks mix what lies either side of it.
        const bool deep = x >= r->x + 2 && x < r->x + r->w - 2 && y >= r->y + 2 && y < r->y + r->h - 2;
        if (deep) worst_inside = std::max(worst_inside, std::abs(v - 16));
        else if (!near) {
          outside_err += std::abs(v - before.luma[n][y * W + x]);
          ++outside_n;
        }
      }
    CHECK(worst_inside <= 4);
    CHECK(outside_err / outside_n < 6.0);
  }
  // The same inputs give the same bytes.
  REQUIRE(redact::render(dir.path() / "in.mp4", spec, dir.path() / "again.mp4", {}, no_check));
  CHECK((test::get_file(dir.path() / "again.mp4") == test::get_file(dir.path() / "out.mp4")));
  // Nothing identifying is added.
  const std::string bytes = test::get_file(dir.path() / "out.mp4");
  CHECK(bytes.find("x264") == std::string::npos);
  CHECK(bytes.find("Lavf") == std::string::npos);
}

TEST_CASE("--full re-encodes every GOP; a muted range is silent and the rest of the sound kept") {
  test::TmpDir dir;
  test::put_file(dir.path() / "in.mp4", make_clip());
  const auto spec = spec_of(R"({"bwv_redaction": 1,
    "audio": [{"from_ms": 2000, "to_ms": 3000, "label": "name", "reason": "a name is said", "method": "mute"}]})");
  const auto stats = redact::render(dir.path() / "in.mp4", spec, dir.path() / "out.mp4", {.full = true}, no_check);
  REQUIRE_MESSAGE(stats, why(stats));
  CHECK(stats->reencoded == SECONDS);
  const Decoded before = decode(dir.path() / "in.mp4"), after = decode(dir.path() / "out.mp4");
  CHECK(after.errors == 0);
  CHECK(after.luma.size() == before.luma.size());
  CHECK(rms(after.sound, 2100 * 48, 2900 * 48) == 0.0);
  const double kept = rms(after.sound, 500 * 48, 1500 * 48), original = rms(before.sound, 500 * 48, 1500 * 48);
  CHECK(kept == doctest::Approx(original).epsilon(0.1));
}

TEST_CASE("the check sees the original's size and length before anything is written") {
  test::TmpDir dir;
  test::put_file(dir.path() / "in.mp4", make_clip());
  const auto spec = spec_of(R"({"bwv_redaction": 1})");
  int w = 0, h = 0;
  std::int64_t ms = 0;
  const auto r = redact::render(dir.path() / "in.mp4", spec, dir.path() / "out.mp4", {},
                                [&](int a, int b, std::int64_t c) -> Result<void> {
                                  w = a, h = b, ms = c;
                                  return fail(Errc::usage, "spec.json", "beyond the clip");
                                });
  CHECK_FALSE(r);
  CHECK(w == W);
  CHECK(h == H);
  CHECK(ms >= 3900);
  CHECK(ms <= 4100);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "out.mp4"));
}

TEST_SUITE_END();
