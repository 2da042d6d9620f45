#include "media/encode.hpp"
#include "media/probe.hpp"

#include "tmpdir.hpp"

extern "C" {
#include <libavutil/frame.h>
}

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace bwv;
using bwv::test::why;

TEST_SUITE_BEGIN("media::encode");

namespace {

void fill_video(AVFrame* f, std::int64_t n) {
  for (int y = 0; y < f->height; ++y)
    for (int x = 0; x < f->width; ++x) f->data[0][y * f->linesize[0] + x] = static_cast<std::uint8_t>(x + y + n * 3);
  for (int y = 0; y < f->height / 2; ++y)
    for (int x = 0; x < f->width / 2; ++x) {
      f->data[1][y * f->linesize[1] + x] = 128;
      f->data[2][y * f->linesize[2] + x] = static_cast<std::uint8_t>(64 + n);
    }
}

void fill_audio(AVFrame* f, std::int64_t first) {
  auto* s = reinterpret_cast<float*>(f->data[0]);
  for (int i = 0; i < f->nb_samples; ++i) s[i] = 0.2f * std::sin(2 * 3.14159265 * 440 * double(first + i) / 48000);
}

struct Encoded {
  std::vector<std::string> pieces;
  std::vector<media::Packet> video, audio;
};

// Encodes seconds of video (and audio) at 160x120, 10 fps, one fragment per second.
Encoded encode(int seconds, bool with_audio) {
  Encoded e;
  auto v = media::VideoEncoder::open({.width = 160, .height = 120, .fps = 10, .bitrate_kbps = 200, .preset = "ultrafast"});
  REQUIRE_MESSAGE(v, why(v));
  std::optional<media::AudioEncoder> a;
  if (with_audio) {
    auto opened = media::AudioEncoder::open({});
    REQUIRE_MESSAGE(opened, why(opened));
    a.emplace(std::move(*opened));
  }
  std::optional<media::Fmp4Writer> w;
  std::int64_t sample = 0;
  for (int s = 0; s < seconds; ++s) {
    std::vector<media::Packet> vp, ap;
    for (int i = 0; i < 10; ++i) {
      const std::int64_t n = s * 10 + i;
      fill_video(v->frame(), n);
      REQUIRE(v->encode(n, n % 10 == 0, vp));
    }
    while (a && sample < (s + 1) * 48000) {
      fill_audio(a->frame(), sample);
      REQUIRE(a->encode(sample, ap));
      sample += a->frame_samples();
    }
    REQUIRE(vp.size() == 10); // zero latency: one packet per frame
    CHECK(vp[0].key);
    for (std::size_t i = 1; i < vp.size(); ++i) CHECK_FALSE(vp[i].key);
    if (!w) {
      auto opened = media::Fmp4Writer::open(*v, a ? &*a : nullptr, vp[0], [&](std::span<const unsigned char> b) -> Result<void> {
        e.pieces.emplace_back(reinterpret_cast<const char*>(b.data()), b.size());
        return {};
      });
      REQUIRE_MESSAGE(opened, why(opened));
      w.emplace(std::move(*opened));
    }
    for (const auto& p : vp) REQUIRE(w->write_video(p));
    for (const auto& p : ap)
      if (p.pts >= 0) REQUIRE(w->write_audio(p));
    REQUIRE(w->fragment());
    e.video.insert(e.video.end(), vp.begin(), vp.end());
    e.audio.insert(e.audio.end(), ap.begin(), ap.end());
  }
  return e;
}

} // namespace

TEST_CASE("strip_sei drops SEI units and keeps the rest") {
  std::vector<unsigned char> b = {0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x06, 9, 9, 9, 0, 0, 1, 0x65, 7, 7};
  media::strip_sei(b);
  CHECK(b == std::vector<unsigned char>{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 7, 7});
}

TEST_CASE("an encoded clip is fragmented MP4, one fragment per one-second GOP") {
  const Encoded e = encode(3, true);
  REQUIRE(e.pieces.size() == 4); // init segment and three fragments
  CHECK(e.pieces[0].substr(4, 4) == "ftyp");
  for (std::size_t i = 1; i < e.pieces.size(); ++i) CHECK(e.pieces[i].substr(4, 4) == "moof");
  std::string file;
  for (const auto& p : e.pieces) file += p;
  // Nothing identifying: x264 writes its version and options in an SEI, which is stripped.
  CHECK(file.find("x264") == std::string::npos);
  CHECK(file.find("Lavf") == std::string::npos);
  test::TmpDir dir;
  test::put_file(dir.path() / "clip.mp4", file);
  const auto info = media::probe(dir.path() / "clip.mp4");
  REQUIRE_MESSAGE(info, why(info));
  REQUIRE(info->streams.size() == 2);
  CHECK(info->streams[0].codec == "h264");
  CHECK(info->streams[0].width == 160);
  CHECK(info->streams[1].codec == "aac");
  CHECK(info->duration_ms >= 2900);
  CHECK(info->duration_ms <= 3100);
}

TEST_CASE("every GOP starts with an IDR carrying SPS and PPS") {
  const Encoded e = encode(2, false);
  for (std::size_t i = 0; i < e.video.size(); i += 10) {
    const auto& d = e.video[i].data;
    // Annex B: the first units of each GOP are SPS (7) and PPS (8), then the IDR slice (5).
    std::vector<int> types;
    for (std::size_t k = 0; k + 3 < d.size(); ++k)
      if (d[k] == 0 && d[k + 1] == 0 && d[k + 2] == 1) types.push_back(d[k + 3] & 0x1f);
    REQUIRE(types.size() >= 3);
    CHECK(types[0] == 7);
    CHECK(types[1] == 8);
    CHECK(std::find(types.begin(), types.end(), 5) != types.end());
    CHECK(std::find(types.begin(), types.end(), 6) == types.end());
  }
  // Decode order is presentation order: no B-frames.
  for (std::size_t i = 0; i < e.video.size(); ++i) CHECK(e.video[i].pts == e.video[i].dts);
}

TEST_SUITE_END();
