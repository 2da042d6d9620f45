#include "media/encode.hpp"
#include "media/fmp4.hpp"
#include "tmpdir.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace bwv;
using bwv::test::why;
using Bytes = std::vector<unsigned char>;

TEST_SUITE_BEGIN("media::fmp4");

namespace {

// ---- reading ISO BMFF back, independently of the writer ----

std::uint32_t be32(const Bytes& b, std::size_t at) {
  return std::uint32_t(b.at(at)) << 24 | std::uint32_t(b.at(at + 1)) << 16 | std::uint32_t(b.at(at + 2)) << 8 |
         b.at(at + 3);
}
std::uint64_t be64(const Bytes& b, std::size_t at) { return std::uint64_t(be32(b, at)) << 32 | be32(b, at + 4); }

struct Box {
  std::string type;
  std::size_t at = 0;   // first byte of the box
  std::size_t size = 0; // the whole box
  std::size_t body = 0; // first byte after the header
  std::vector<Box> children;
  const Box* find(const std::string& t) const {
    for (const auto& c : children)
      if (c.type == t) return &c;
    return nullptr;
  }
  std::vector<const Box*> all(const std::string& t) const {
    std::vector<const Box*> out;
    for (const auto& c : children)
      if (c.type == t) out.push_back(&c);
    return out;
  }
};

// Boxes in [from, to), recursing into containers (and past a sample entry's fixed fields):
// every size must be at least its header and end within its parent, and the boxes must tile the
// range exactly.
std::vector<Box> parse(const Bytes& b, std::size_t from, std::size_t to) {
  static const std::map<std::string, std::size_t> containers = {
      {"moov", 0}, {"trak", 0}, {"mdia", 0}, {"minf", 0},  {"dinf", 0},  {"stbl", 0}, {"mvex", 0},
      {"moof", 0}, {"traf", 0}, {"stsd", 8}, {"avc1", 78}, {"mp4a", 28}, {"dref", 8}};
  std::vector<Box> out;
  std::size_t at = from;
  while (at < to) {
    REQUIRE(to - at >= 8);
    Box x;
    x.at = at;
    x.size = be32(b, at);
    x.type.assign(reinterpret_cast<const char*>(&b[at + 4]), 4);
    x.body = at + 8;
    REQUIRE_MESSAGE(x.size >= 8, x.type);
    REQUIRE_MESSAGE(x.size <= to - at, x.type << " runs past its parent");
    if (const auto c = containers.find(x.type); c != containers.end())
      x.children = parse(b, x.body + c->second, at + x.size);
    out.push_back(std::move(x));
    at += out.back().size;
  }
  CHECK(at == to);
  return out;
}

struct TrunSample {
  std::uint32_t duration = 0, size = 0, flags = 0;
  std::int64_t offset = 0;
};

struct Traf {
  std::uint32_t track = 0;
  std::uint64_t base_time = 0;     // tfdt
  std::size_t data = 0;            // absolute: the first sample's first byte
  std::vector<TrunSample> samples; // defaults from tfhd applied
};

// A moof's trafs, with each trun resolved against its tfhd (default-base-is-moof required).
std::vector<Traf> read_moof(const Bytes& b, const Box& moof) {
  std::vector<Traf> out;
  for (const Box* traf : moof.all("traf")) {
    Traf t;
    const Box* tfhd = traf->find("tfhd");
    const Box* tfdt = traf->find("tfdt");
    const Box* trun = traf->find("trun");
    REQUIRE(tfhd);
    REQUIRE(tfdt);
    REQUIRE(trun);
    const std::uint32_t hf = be32(b, tfhd->body) & 0xffffff;
    REQUIRE((hf & 0x020000) != 0); // default-base-is-moof
    REQUIRE((hf & 0x000001) == 0); // no base data offset
    std::size_t p = tfhd->body + 4;
    t.track = be32(b, p);
    p += 4;
    if (hf & 0x02) p += 4; // sample description index
    std::uint32_t dd = 0, ds = 0, df = 0;
    if (hf & 0x08) dd = be32(b, p), p += 4;
    if (hf & 0x10) ds = be32(b, p), p += 4;
    if (hf & 0x20) df = be32(b, p), p += 4;
    CHECK(p == tfhd->at + tfhd->size);
    REQUIRE(b[tfdt->body] == 1); // 64-bit
    t.base_time = be64(b, tfdt->body + 4);
    const std::uint32_t rf = be32(b, trun->body) & 0xffffff;
    const std::uint32_t n = be32(b, trun->body + 4);
    p = trun->body + 8;
    REQUIRE((rf & 0x01) != 0); // data offset
    t.data = moof.at + static_cast<std::int32_t>(be32(b, p));
    p += 4;
    std::optional<std::uint32_t> first_flags;
    if (rf & 0x04) first_flags = be32(b, p), p += 4;
    for (std::uint32_t i = 0; i < n; ++i) {
      TrunSample s{dd, ds, i == 0 && first_flags ? *first_flags : df, 0};
      if (rf & 0x100) s.duration = be32(b, p), p += 4;
      if (rf & 0x200) s.size = be32(b, p), p += 4;
      if (rf & 0x400) s.flags = be32(b, p), p += 4;
      if (rf & 0x800) s.offset = be32(b, p), p += 4;
      t.samples.push_back(s);
    }
    CHECK(p == trun->at + trun->size);
    out.push_back(std::move(t));
  }
  return out;
}

bool is_sync(std::uint32_t flags) { return (flags & 0x00010000) == 0; }

// What MP4 should hold for an Annex B packet, worked out here: each unit behind a 4-byte length.
Bytes to_avcc(const Bytes& a) {
  std::vector<std::size_t> starts; // first byte of each unit
  for (std::size_t i = 0; i + 3 <= a.size(); ++i)
    if (a[i] == 0 && a[i + 1] == 0 && a[i + 2] == 1) starts.push_back(i + 3), i += 2;
  Bytes out;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    std::size_t end = k + 1 < starts.size() ? starts[k + 1] - 3 : a.size();
    while (end > starts[k] && a[end - 1] == 0)
      --end;
    const auto n = static_cast<std::uint32_t>(end - starts[k]);
    out.insert(out.end(), {static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                           static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)});
    out.insert(out.end(), a.begin() + static_cast<std::ptrdiff_t>(starts[k]),
               a.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

// ---- a clip from the real encoders ----

constexpr int W = 160, H = 120, FPS = 10;

struct Clip {
  std::vector<Bytes> pieces;
  std::vector<media::Packet> video, audio; // as written (times rebased)
  Bytes extradata;                         // the AAC encoder's
  Bytes file() const {
    Bytes f;
    for (const auto& p : pieces)
      f.insert(f.end(), p.begin(), p.end());
    return f;
  }
};

// seconds of 1 s GOPs, one fragment each, written as bwv-camd does: capture (sound too) begins
// at frame `lead`, the clip at the GOP after; sound that starts before the clip is left out, so
// the first AAC frame kept starts a little after the picture (lead 0: exactly with it).
Clip record(int seconds, bool with_audio, int lead) {
  Clip c;
  auto v = media::VideoEncoder::open({.width = W, .height = H, .fps = FPS, .bitrate_kbps = 200, .preset = "ultrafast"});
  REQUIRE_MESSAGE(v, why(v));
  std::optional<media::AudioEncoder> a;
  if (with_audio) {
    auto opened = media::AudioEncoder::open({});
    REQUIRE_MESSAGE(opened, why(opened));
    a.emplace(std::move(*opened));
    const AVCodecContext* ac = a->context();
    c.extradata.assign(ac->extradata, ac->extradata + ac->extradata_size);
  }
  const std::int64_t first = lead ? lead + FPS : 0; // the clip's first frame
  const auto samples_at = [](std::int64_t frame) { return frame * 48000 / FPS; };
  std::int64_t sample = samples_at(lead);
  std::optional<media::Fmp4Writer> w;
  for (std::int64_t gop = lead; gop < first + seconds * FPS; gop += FPS) {
    std::vector<media::Packet> vp, ap;
    for (int i = 0; i < FPS; ++i) {
      const std::int64_t n = gop + i;
      AVFrame* f = v->frame();
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
          f->data[0][y * f->linesize[0] + x] = static_cast<std::uint8_t>(x * 2 + y + n * 5);
      for (int y = 0; y < H / 2; ++y)
        for (int x = 0; x < W / 2; ++x)
          f->data[1][y * f->linesize[1] + x] = f->data[2][y * f->linesize[2] + x] = 128;
      REQUIRE(v->encode(n, i == 0, vp));
      while (a && sample < samples_at(n + 1)) {
        auto* d = reinterpret_cast<float*>(a->frame()->data[0]);
        for (int k = 0; k < a->frame_samples(); ++k)
          d[k] = 0.2f * float(std::sin(2 * M_PI * 440 * double(sample + k) / 48000));
        REQUIRE(a->encode(sample, ap));
        sample += a->frame_samples();
      }
    }
    if (gop < first) continue; // the pre-event GOP is not in this clip
    if (!w) {
      auto opened =
          media::Fmp4Writer::open(*v, a ? &*a : nullptr, vp[0], [&](std::span<const unsigned char> b) -> Result<void> {
            c.pieces.emplace_back(b.begin(), b.end());
            return {};
          });
      REQUIRE_MESSAGE(opened, why(opened));
      w.emplace(std::move(*opened));
    }
    for (auto p : vp) {
      p.pts -= first;
      p.dts -= first;
      REQUIRE(w->write_video(p));
      c.video.push_back(std::move(p));
    }
    for (auto p : ap) {
      if (p.pts < samples_at(first)) continue;
      p.pts -= samples_at(first);
      p.dts -= samples_at(first);
      REQUIRE(w->write_audio(p));
      c.audio.push_back(std::move(p));
    }
    REQUIRE(w->fragment());
  }
  return c;
}

// ---- synthetic tracks for the writer alone ----

// A Constrained Baseline SPS and PPS as libx264 writes them (160x120), and a High one.
const Bytes k_sps = {0x67, 0x42, 0xc0, 0x0d, 0xda, 0x0a, 0x11, 0xf9, 0x61, 0x00, 0x00, 0x03,
                     0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x14, 0x8f, 0x14, 0x2a, 0xa0};
const Bytes k_sps_high = {0x67, 0x64, 0x00, 0x0d, 0xac, 0xb4, 0x0a, 0x0f, 0xd0, 0x80, 0x00,
                          0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x1e, 0x47, 0x8a, 0x15, 0x50};
const Bytes k_pps = {0x68, 0xce, 0x3c, 0x80};

media::fmp4::VideoTrack video_track(const Bytes& sps = k_sps) {
  return {.width = W, .height = H, .time_base = {1, FPS}, .frame_duration = 1, .bit_rate = 0, .sps = sps, .pps = k_pps};
}
media::fmp4::AudioTrack audio_track() {
  return {.sample_rate = 48000,
          .channels = 1,
          .time_base = {1, 48000},
          .frame_duration = 1024,
          .bit_rate = 64000,
          .config = {0x11, 0x88}};
}

Bytes idr() { return {0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88, 0x84, 0x00}; }
Bytes slice(unsigned char tag) { return {0, 0, 1, 0x41, 0x9a, tag}; }

media::fmp4::Sample sample(const Bytes& data, std::int64_t dts, bool sync = false, std::int64_t pts = -1,
                           std::int64_t duration = 0) {
  return {.data = data, .pts = pts < 0 ? dts : pts, .dts = dts, .duration = duration, .sync = sync};
}

// The next fragment, copied out of the writer.
Bytes take(media::fmp4::Writer& w) {
  const auto f = w.fragment();
  REQUIRE_MESSAGE(f, why(f));
  return Bytes(f->begin(), f->end());
}

media::fmp4::Writer writer(bool audio) {
  auto w = media::fmp4::Writer::open(video_track(), audio ? std::optional(audio_track()) : std::nullopt);
  REQUIRE_MESSAGE(w, why(w));
  return std::move(*w);
}

} // namespace

TEST_CASE("annexb_units: 3- and 4-byte start codes; the zero bytes before a start code are not the unit's") {
  const Bytes b = {0, 0, 0, 1, 0x67, 1, 0, 0, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65, 3, 0};
  const auto units = media::fmp4::annexb_units(b);
  REQUIRE(units.size() == 3);
  CHECK(Bytes(units[0].begin(), units[0].end()) == Bytes{0x67, 1});
  CHECK(Bytes(units[1].begin(), units[1].end()) == Bytes{0x68, 2});
  CHECK(Bytes(units[2].begin(), units[2].end()) == Bytes{0x65, 3});
  const Bytes not_annexb = {0x65, 0, 0, 1, 0x41};
  CHECK(media::fmp4::annexb_units(not_annexb).empty());
  CHECK(media::fmp4::annexb_units(Bytes{}).empty());
}

TEST_CASE("an encoded clip: boxes well formed, one fragment per GOP with its times, sizes and sync samples") {
  const Clip c = record(3, true, 0);
  REQUIRE(c.pieces.size() == 4);
  // The init segment: ftyp and moov, nothing else.
  const auto init = parse(c.pieces[0], 0, c.pieces[0].size());
  REQUIRE(init.size() == 2);
  CHECK(init[0].type == "ftyp");
  CHECK(std::string(c.pieces[0].begin() + 8, c.pieces[0].begin() + 12) == "iso5");
  const Box& moov = init[1];
  REQUIRE(moov.type == "moov");
  REQUIRE(moov.find("mvhd"));
  const auto traks = moov.all("trak");
  REQUIRE(traks.size() == 2);
  REQUIRE(moov.find("mvex"));
  CHECK(moov.find("mvex")->all("trex").size() == 2);
  const Bytes& m = c.pieces[0];
  const auto timescale = [&](const Box* trak) { return be32(m, trak->find("mdia")->find("mdhd")->body + 12); };
  CHECK(timescale(traks[0]) == 10240); // 1/10 s doubled up to 10 kHz: every frame time exact
  CHECK(timescale(traks[1]) == 48000);
  // avcC carries the SPS and PPS of the first IDR; esds the AAC encoder's configuration.
  const Box* avc1 = traks[0]->find("mdia")->find("minf")->find("stbl")->find("stsd")->find("avc1");
  REQUIRE(avc1);
  const Box* avcc = avc1->find("avcC");
  REQUIRE(avcc);
  const Bytes first = to_avcc(c.video[0].data);
  const std::uint32_t sps_len = be32(first, 0);
  CHECK(std::equal(first.begin() + 4, first.begin() + 4 + sps_len,
                   m.begin() + static_cast<std::ptrdiff_t>(avcc->body + 8)));
  const Box* mp4a = traks[1]->find("mdia")->find("minf")->find("stbl")->find("stsd")->find("mp4a");
  REQUIRE(mp4a);
  const Box* esds = mp4a->find("esds");
  REQUIRE(esds);
  const Bytes esds_body(m.begin() + static_cast<std::ptrdiff_t>(esds->body),
                        m.begin() + static_cast<std::ptrdiff_t>(esds->at + esds->size));
  CHECK(std::search(esds_body.begin(), esds_body.end(), c.extradata.begin(), c.extradata.end()) != esds_body.end());

  std::size_t v = 0, a = 0;
  std::int64_t audio_end = 0;
  for (std::size_t i = 1; i < c.pieces.size(); ++i) {
    const Bytes& p = c.pieces[i];
    const auto boxes = parse(p, 0, p.size());
    REQUIRE(boxes.size() == 2);
    REQUIRE(boxes[0].type == "moof");
    REQUIRE(boxes[1].type == "mdat");
    CHECK(be32(p, boxes[0].find("mfhd")->body + 4) == i); // sequence numbers from 1
    const auto trafs = read_moof(p, boxes[0]);
    REQUIRE(trafs.size() == 2);
    std::size_t next = boxes[1].body; // the runs fill the mdat, video then audio
    for (const Traf& t : trafs) {
      CHECK(t.data == next);
      std::size_t at = t.data;
      std::uint64_t time = t.base_time;
      if (t.track == 1) {
        REQUIRE(t.samples.size() == FPS);
        CHECK(t.base_time == (i - 1) * 10240);
        for (std::size_t k = 0; k < t.samples.size(); ++k, ++v) {
          const auto& s = t.samples[k];
          CHECK(s.duration == 1024);
          CHECK(s.offset == 0);
          CHECK(is_sync(s.flags) == (k == 0));
          CHECK(is_sync(s.flags) == c.video[v].key);
          CHECK(time == std::uint64_t(c.video[v].dts) * 1024);
          const Bytes want = to_avcc(c.video[v].data);
          REQUIRE(s.size == want.size());
          CHECK(std::equal(want.begin(), want.end(), p.begin() + static_cast<std::ptrdiff_t>(at)));
          at += s.size;
          time += s.duration;
        }
      } else {
        REQUIRE(t.track == 2);
        CHECK(t.base_time == std::uint64_t(audio_end));
        for (const auto& s : t.samples) {
          REQUIRE(a < c.audio.size());
          CHECK(time == std::uint64_t(c.audio[a].dts));
          CHECK(is_sync(s.flags));
          REQUIRE(s.size == c.audio[a].data.size());
          CHECK(
              std::equal(c.audio[a].data.begin(), c.audio[a].data.end(), p.begin() + static_cast<std::ptrdiff_t>(at)));
          at += s.size;
          time += s.duration;
          ++a;
        }
        audio_end = static_cast<std::int64_t>(time);
      }
      next = at;
    }
    CHECK(next == p.size());
  }
  CHECK(v == c.video.size());
  CHECK(a == c.audio.size());
}

TEST_CASE("FFmpeg demuxes exactly what was written: packets, times, keyframes") {
  const Clip c = record(3, true, 0);
  test::TmpDir dir;
  const Bytes file = c.file();
  test::put_file(dir.path() / "clip.mp4", {reinterpret_cast<const char*>(file.data()), file.size()});
  av_log_set_level(AV_LOG_ERROR);
  AVFormatContext* fmt = nullptr;
  REQUIRE(avformat_open_input(&fmt, (dir.path() / "clip.mp4").c_str(), nullptr, nullptr) == 0);
  REQUIRE(avformat_find_stream_info(fmt, nullptr) >= 0);
  REQUIRE(fmt->nb_streams == 2);
  CHECK(fmt->streams[0]->codecpar->codec_id == AV_CODEC_ID_H264);
  CHECK(fmt->streams[0]->codecpar->width == W);
  CHECK(fmt->streams[1]->codecpar->codec_id == AV_CODEC_ID_AAC);
  CHECK(fmt->streams[1]->codecpar->sample_rate == 48000);
  CHECK(fmt->streams[1]->codecpar->ch_layout.nb_channels == 1);
  const AVRational frame_tb{1, FPS}, sample_tb{1, 48000};
  AVPacket* pkt = av_packet_alloc();
  std::size_t v = 0, a = 0;
  while (av_read_frame(fmt, pkt) >= 0) {
    const AVRational tb = fmt->streams[pkt->stream_index]->time_base;
    if (pkt->stream_index == 0) {
      REQUIRE(v < c.video.size());
      const auto& w = c.video[v++];
      CHECK(av_rescale_q(pkt->pts, tb, frame_tb) == w.pts);
      CHECK(av_rescale_q(pkt->dts, tb, frame_tb) == w.dts);
      CHECK(av_rescale_q(pkt->duration, tb, frame_tb) == 1);
      CHECK(((pkt->flags & AV_PKT_FLAG_KEY) != 0) == w.key);
      CHECK(Bytes(pkt->data, pkt->data + pkt->size) == to_avcc(w.data));
    } else {
      REQUIRE(a < c.audio.size());
      const auto& w = c.audio[a++];
      CHECK(av_rescale_q(pkt->pts, tb, sample_tb) == w.pts);
      CHECK(av_rescale_q(pkt->dts, tb, sample_tb) == w.dts);
      CHECK(Bytes(pkt->data, pkt->data + pkt->size) == w.data);
    }
    av_packet_unref(pkt);
  }
  CHECK(v == c.video.size());
  CHECK(a == c.audio.size());
  av_packet_free(&pkt);
  avformat_close_input(&fmt);
}

TEST_CASE("sound whose first AAC frame starts after the picture is stretched back to 0, as FFmpeg's muxer did") {
  const Clip c = record(2, true, 3);
  REQUIRE(!c.audio.empty());
  const std::int64_t late = c.audio[0].dts;
  REQUIRE(late > 0);
  REQUIRE(late < 1024);
  const Bytes& p = c.pieces[1];
  const auto boxes = parse(p, 0, p.size());
  const auto trafs = read_moof(p, boxes[0]);
  REQUIRE(trafs.size() == 2);
  CHECK(trafs[0].base_time == 0);
  CHECK(trafs[1].base_time == 0);
  CHECK(trafs[1].samples[0].duration == 1024 + late);
  CHECK(trafs[1].samples[1].duration == 1024); // the rest at their own times
  // The next fragment's sound starts at its packet's own time.
  const Bytes& q = c.pieces[2];
  const auto next = read_moof(q, parse(q, 0, q.size())[0]);
  const std::size_t n0 = trafs[1].samples.size();
  CHECK(next[1].base_time == std::uint64_t(c.audio[n0].dts));
}

TEST_CASE("the same packets give the same bytes") {
  const Clip a = record(2, true, 3), b = record(2, true, 3);
  CHECK(a.pieces == b.pieces);
  const Bytes f = a.file();
  const std::string s(f.begin(), f.end());
  CHECK(s.find("Lavf") == std::string::npos);
  CHECK(s.find("x264") == std::string::npos);
}

TEST_CASE("trun carries per-sample durations, sizes, flags and composition offsets only when they vary") {
  auto w = writer(false);
  const Bytes k = idr(), s1 = slice(1), s2 = slice(2), big = {0, 0, 1, 0x41, 1, 2, 3, 4, 5};
  REQUIRE(w.add_video(sample(k, 0, true)));
  REQUIRE(w.add_video(sample(s1, 1, false, 2)));  // shown a frame late: a composition offset
  REQUIRE(w.add_video(sample(big, 3, false, 3))); // two frames after the last
  REQUIRE(w.add_video(sample(k, 4, true, 4, 2))); // a second sync sample; its own duration
  Bytes out = take(w);
  const auto boxes = parse(out, 0, out.size());
  const auto trafs = read_moof(out, boxes[0]);
  REQUIRE(trafs.size() == 1);
  const auto& t = trafs[0].samples;
  REQUIRE(t.size() == 4);
  CHECK(t[0].duration == 1024);
  CHECK(t[1].duration == 2048);
  CHECK(t[2].duration == 1024);
  CHECK(t[3].duration == 2048); // the packet's duration: the last of its fragment
  CHECK(t[1].offset == 1024);
  CHECK(t[0].offset == 0);
  CHECK(is_sync(t[0].flags));
  CHECK_FALSE(is_sync(t[1].flags));
  CHECK_FALSE(is_sync(t[2].flags));
  CHECK(is_sync(t[3].flags));
  CHECK(t[2].size == 4 + 6);

  // A plain GOP: defaults in tfhd, only the first sample's flags and the sizes in trun.
  auto g = writer(false);
  REQUIRE(g.add_video(sample(k, 0, true)));
  REQUIRE(g.add_video(sample(s1, 1)));
  REQUIRE(g.add_video(sample(s2, 2)));
  out = take(g);
  const auto gb = parse(out, 0, out.size());
  const Box* trun = gb[0].find("traf")->find("trun");
  CHECK((be32(out, trun->body) & 0xffffff) == 0x000205);
  CHECK(trun->size == 8 + 4 + 4 + 4 + 4 + 3 * 4);
}

TEST_CASE("a fragment with nothing in it is no piece; tracks without samples get no traf") {
  auto w = writer(true);
  CHECK(take(w).empty());
  const Bytes aac = {0x21, 0x10, 0x04};
  REQUIRE(w.add_audio(sample(aac, 0, true, -1, 1024)));
  const Bytes out = take(w);
  const auto boxes = parse(out, 0, out.size());
  const auto trafs = read_moof(out, boxes[0]);
  REQUIRE(trafs.size() == 1);
  CHECK(trafs[0].track == 2);
}

TEST_CASE("a moof too big for the room kept before the video, sound and picture interleaved: the data still lines up") {
  auto w = writer(true);
  std::vector<Bytes> video, audio;
  for (int i = 0; i < 700; ++i) {
    video.push_back(i == 0 ? idr()
                           : Bytes{0, 0, 1, 0x41, static_cast<unsigned char>(i), static_cast<unsigned char>(i >> 8)});
    for (int k = 0; k < i % 3; ++k)
      video.back().push_back(static_cast<unsigned char>(k + 1));
    audio.push_back(Bytes{0x21, static_cast<unsigned char>(i), static_cast<unsigned char>(i >> 8)});
  }
  for (int i = 0; i < 700; ++i) {
    // Sound first, then picture; every third frame twice as long: durations, sizes and flags vary.
    REQUIRE(w.add_audio(sample(audio[i], std::int64_t(i) * 1024, true, -1, 1024)));
    REQUIRE(w.add_video(sample(video[i], i + i / 3, i == 0)));
  }
  const Bytes out = take(w);
  const auto boxes = parse(out, 0, out.size());
  REQUIRE(boxes.size() == 2);
  CHECK(boxes[0].size > 4096);
  const auto trafs = read_moof(out, boxes[0]);
  REQUIRE(trafs.size() == 2);
  CHECK(trafs[0].data == boxes[1].body);
  std::size_t at = trafs[0].data;
  for (int i = 0; i < 700; ++i) {
    const Bytes want = to_avcc(video[i]);
    REQUIRE(trafs[0].samples[i].size == want.size());
    CHECK(std::equal(want.begin(), want.end(), out.begin() + static_cast<std::ptrdiff_t>(at)));
    at += want.size();
  }
  CHECK(trafs[1].data == at);
  for (int i = 0; i < 700; ++i) {
    CHECK(std::equal(audio[i].begin(), audio[i].end(), out.begin() + static_cast<std::ptrdiff_t>(at)));
    at += audio[i].size();
  }
  CHECK(at == out.size());
  // The next fragment starts afresh.
  REQUIRE(w.add_video(sample(idr(), 2000, true)));
  const Bytes next = take(w);
  const auto nb = parse(next, 0, next.size());
  CHECK(read_moof(next, nb[0])[0].base_time == 2000 * 1024);
}

TEST_CASE("bad input is refused with a clear error, and leaves the writer usable") {
  auto w = writer(false);
  const Bytes k = idr(), s1 = slice(1), empty;
  const Bytes not_annexb = {0x41, 0x9a, 1};
  auto refused = [](const Result<void>& r, const char* words) {
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().message.find(words) != std::string::npos, r.error().message);
  };
  refused(w.add_video(sample(s1, 0, false)), "not a keyframe");
  refused(w.add_video(sample(empty, 0, true)), "empty");
  refused(w.add_video(sample(not_annexb, 0, true)), "not Annex B");
  refused(w.add_video(sample(k, -1, true)), "negative");
  refused(w.add_video(sample(k, 2, true, 1)), "B-frames");
  REQUIRE(w.add_video(sample(k, 0, true)));
  REQUIRE(w.add_video(sample(s1, 1)));
  refused(w.add_video(sample(s1, 1)), "do not increase");
  refused(w.add_video(sample(s1, 0)), "do not increase");
  refused(w.add_audio(sample(Bytes{1}, 0, true)), "no audio track");
  CHECK_FALSE(take(w).empty());
  refused(w.add_video(sample(s1, 1)), "do not increase"); // across fragments too
  REQUIRE(w.add_video(sample(s1, 2)));
  const Bytes out = take(w);
  const auto boxes = parse(out, 0, out.size());
  CHECK(read_moof(out, boxes[0])[0].base_time == 2 * 1024);

  auto no_sps = video_track();
  no_sps.sps.clear();
  CHECK_FALSE(media::fmp4::Writer::open(no_sps, std::nullopt));
  auto no_config = audio_track();
  no_config.config.clear();
  CHECK_FALSE(media::fmp4::Writer::open(video_track(), no_config));
}

TEST_CASE("avcC: High profile adds chroma format and bit depths read from the SPS") {
  auto w = media::fmp4::Writer::open(video_track(k_sps_high), std::nullopt);
  REQUIRE_MESSAGE(w, why(w));
  const Bytes init = w->init_segment();
  const auto boxes = parse(init, 0, init.size());
  const Box* avcc =
      boxes[1].find("trak")->find("mdia")->find("minf")->find("stbl")->find("stsd")->find("avc1")->find("avcC");
  REQUIRE(avcc);
  const Bytes tail(init.begin() + static_cast<std::ptrdiff_t>(avcc->at + avcc->size - 4),
                   init.begin() + static_cast<std::ptrdiff_t>(avcc->at + avcc->size));
  CHECK(tail == Bytes{0xfd, 0xf8, 0xf8, 0x00}); // 4:2:0, 8 bits, no SPS extensions
  CHECK(init[avcc->body + 1] == 0x64);

  auto base = media::fmp4::Writer::open(video_track(), std::nullopt);
  REQUIRE(base);
  const Bytes b = base->init_segment();
  const auto bb = parse(b, 0, b.size());
  const Box* bc =
      bb[1].find("trak")->find("mdia")->find("minf")->find("stbl")->find("stsd")->find("avc1")->find("avcC");
  CHECK(bc->size == 8 + 6 + 2 + k_sps.size() + 1 + 2 + k_pps.size()); // Baseline: nothing more
}

TEST_SUITE_END();
