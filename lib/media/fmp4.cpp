#include "media/fmp4.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

namespace bwv::media::fmp4 {

namespace {

std::unexpected<Error> mux_fail(std::string message) { return fail(Errc::internal, "mux", std::move(message)); }

// Big-endian writing into a byte vector, with boxes whose size is filled in when they end.
class Out {
public:
  explicit Out(std::vector<unsigned char>& b) : m_b(b) {}

  void u8(unsigned v) { m_b.push_back(static_cast<unsigned char>(v)); }
  void u16(unsigned v) {
    u8(v >> 8);
    u8(v);
  }
  void u32(std::uint32_t v) {
    u16(v >> 16);
    u16(v & 0xffff);
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void fourcc(const char* c) { m_b.insert(m_b.end(), c, c + 4); }
  void zeros(std::size_t n) { m_b.insert(m_b.end(), n, 0); }
  void bytes(std::span<const unsigned char> s) { m_b.insert(m_b.end(), s.begin(), s.end()); }
  std::size_t size() const { return m_b.size(); }
  void put32(std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
      m_b[at + i] = static_cast<unsigned char>(v >> (24 - 8 * i));
  }

  std::size_t box(const char* type) {
    const std::size_t at = size();
    u32(0);
    fourcc(type);
    return at;
  }
  std::size_t full_box(const char* type, unsigned version, std::uint32_t flags) {
    const std::size_t at = box(type);
    u32(version << 24 | flags);
    return at;
  }
  void end(std::size_t at) { put32(at, static_cast<std::uint32_t>(size() - at)); }

  // The identity matrix of mvhd and tkhd.
  void matrix() {
    for (std::uint32_t v : {0x00010000u, 0u, 0u, 0u, 0x00010000u, 0u, 0u, 0u, 0x40000000u})
      u32(v);
  }

private:
  std::vector<unsigned char>& m_b;
};

// Where the next start code (00 00 01) begins at or after from; b.size() when there is none.
std::size_t next_start_code(std::span<const unsigned char> b, std::size_t from) {
  const std::size_t n = b.size();
  std::size_t i = from + 2;
  while (i < n) {
    const void* one = std::memchr(b.data() + i, 1, n - i);
    if (!one) return n;
    i = static_cast<std::size_t>(static_cast<const unsigned char*>(one) - b.data());
    if (b[i - 1] == 0 && b[i - 2] == 0) return i - 2;
    ++i;
  }
  return n;
}

// Calls f with each NAL unit of Annex B data: the bytes after a start code up to the next, less
// the zero bytes before that one (a unit never ends in 0x00, ITU-T H.264 7.4.1). False when the
// data does not begin with a start code.
template <class F> bool for_each_unit(std::span<const unsigned char> b, F&& f) {
  std::size_t code = next_start_code(b, 0);
  if (code == b.size() ||
      std::any_of(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(code), [](unsigned char c) { return c != 0; }))
    return false;
  while (code < b.size()) {
    const std::size_t begin = code + 3;
    const std::size_t next = next_start_code(b, begin);
    std::size_t end = next;
    while (end > begin && b[end - 1] == 0)
      --end;
    if (end > begin) f(b.subspan(begin, end - begin));
    code = next;
  }
  return true;
}

// Exp-Golomb and fixed-width reads over an SPS's RBSP.
class Bits {
public:
  explicit Bits(std::vector<unsigned char> rbsp, std::size_t byte) : m_b(std::move(rbsp)), m_pos(byte * 8) {}
  std::optional<unsigned> bit() {
    if (m_pos >= m_b.size() * 8) return std::nullopt;
    const unsigned v = m_b[m_pos / 8] >> (7 - m_pos % 8) & 1;
    ++m_pos;
    return v;
  }
  std::optional<unsigned> ue() {
    int zeros = 0;
    for (;;) {
      const auto b = bit();
      if (!b) return std::nullopt;
      if (*b) break;
      if (++zeros > 31) return std::nullopt;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < zeros; ++i) {
      const auto b = bit();
      if (!b) return std::nullopt;
      v = v << 1 | *b;
    }
    return static_cast<unsigned>((std::uint64_t{1} << zeros) - 1 + v);
  }

private:
  std::vector<unsigned char> m_b;
  std::size_t m_pos;
};

// avcC's High-profile fields (ISO/IEC 14496-15 5.3.3.1): chroma format and bit depths, from the
// SPS. FFmpeg writes them for every profile but Baseline, Main and Extended; so do we.
Result<void> write_avcc_high(Out& o, std::span<const unsigned char> sps) {
  std::vector<unsigned char> rbsp; // without emulation prevention bytes (00 00 03)
  rbsp.reserve(sps.size());
  int zeros = 0;
  for (unsigned char c : sps) {
    if (zeros >= 2 && c == 3) {
      zeros = 0;
      continue;
    }
    zeros = c == 0 ? zeros + 1 : 0;
    rbsp.push_back(c);
  }
  Bits r(std::move(rbsp), 4); // after the NAL header, profile_idc, constraint flags, level_idc
  const auto id = r.ue();
  const auto chroma = r.ue();
  if (chroma && *chroma == 3 && !r.bit()) return mux_fail("cannot read the SPS");
  const auto luma_depth = r.ue();
  const auto chroma_depth = r.ue();
  if (!id || !chroma || !luma_depth || !chroma_depth || *chroma > 3 || *luma_depth > 6 || *chroma_depth > 6)
    return mux_fail("cannot read the SPS");
  o.u8(0xfc | *chroma);
  o.u8(0xf8 | *luma_depth);
  o.u8(0xf8 | *chroma_depth);
  o.u8(0); // no SPS extensions
  return {};
}

// MPEG-4 descriptors (ISO/IEC 14496-1) with their length in four bytes, as FFmpeg writes them.
void descriptor(Out& o, unsigned tag, std::uint32_t length) {
  o.u8(tag);
  o.u8(0x80 | (length >> 21 & 0x7f));
  o.u8(0x80 | (length >> 14 & 0x7f));
  o.u8(0x80 | (length >> 7 & 0x7f));
  o.u8(length & 0x7f);
}

void btrt(Out& o, std::int64_t bit_rate) {
  if (bit_rate <= 0) return;
  const auto rate = static_cast<std::uint32_t>(std::min<std::int64_t>(bit_rate, 0xffffffff));
  const auto b = o.box("btrt");
  o.u32(0); // bufferSizeDB: unknown before the samples are
  o.u32(rate);
  o.u32(rate);
  o.end(b);
}

// Sample flags (14496-12 8.8.3.1): a sync sample depends on no other; the rest are non-sync and
// depend on others.
constexpr std::uint32_t k_sync_flags = 0x02000000;
constexpr std::uint32_t k_non_sync_flags = 0x01010000;

} // namespace

std::vector<std::span<const unsigned char>> annexb_units(std::span<const unsigned char> b) {
  std::vector<std::span<const unsigned char>> units;
  for_each_unit(b, [&](std::span<const unsigned char> u) { units.push_back(u); });
  return units;
}

Result<Writer> Writer::open(VideoTrack video, std::optional<AudioTrack> audio) {
  if (video.width <= 0 || video.height <= 0 || video.width > 0xffff || video.height > 0xffff)
    return mux_fail("unsupported picture size");
  if (video.time_base.num <= 0 || video.time_base.den <= 0 || video.frame_duration < 0)
    return mux_fail("bad video time base");
  if (video.sps.size() < 4 || video.sps.size() > 0xffff || (video.sps[0] & 0x1f) != 7)
    return mux_fail("no SPS for the video track");
  if (video.pps.empty() || video.pps.size() > 0xffff || (video.pps[0] & 0x1f) != 8)
    return mux_fail("no PPS for the video track");
  if (audio) {
    if (audio->sample_rate <= 0 || audio->sample_rate > 0xffff || audio->channels <= 0 || audio->channels > 0xffff)
      return mux_fail("unsupported sample rate or channels");
    if (audio->time_base.num <= 0 || audio->time_base.den <= 0 || audio->frame_duration < 0)
      return mux_fail("bad audio time base");
    if (audio->config.empty() || audio->config.size() > 0xffff) return mux_fail("no AAC decoder configuration");
  }
  Writer w;
  // Video ticks at the time base's rate doubled up to at least 10 kHz, as FFmpeg's muxer chose
  // (1/30 s: 1/15360), so every packet time stays exact and clips keep the timing they had.
  Track v;
  v.id = 1;
  v.video = true;
  std::int64_t ts = video.time_base.den;
  while (ts < 10000)
    ts *= 2;
  v.timescale = static_cast<std::uint32_t>(ts);
  v.scale = ts / video.time_base.den * video.time_base.num;
  v.frame_duration = video.frame_duration * v.scale;
  w.m_tracks.push_back(std::move(v));
  if (audio) {
    // Sound ticks at its time base (the sample rate).
    Track a;
    a.id = 2;
    a.timescale = static_cast<std::uint32_t>(audio->time_base.den);
    a.scale = audio->time_base.num;
    a.frame_duration = audio->frame_duration * a.scale;
    w.m_tracks.push_back(std::move(a));
  }
  w.m_video = std::move(video);
  w.m_audio = std::move(audio);
  // Fail now, not at the end of the first fragment, on an SPS that cannot be read.
  std::vector<unsigned char> scratch;
  Out check(scratch);
  if (const int profile = w.m_video.sps[1]; profile != 66 && profile != 77 && profile != 88)
    BWV_CHECK(write_avcc_high(check, w.m_video.sps));
  return w;
}

std::vector<unsigned char> Writer::init_segment() const {
  std::vector<unsigned char> b;
  b.reserve(1024);
  Out o(b);
  // The brands FFmpeg's muxer gave these files: ISO base media v5 (default-base-is-moof) and v6,
  // and MP4 v1.
  const auto ftyp = o.box("ftyp");
  o.fourcc("iso5");
  o.u32(512);
  o.fourcc("iso5");
  o.fourcc("iso6");
  o.fourcc("mp41");
  o.end(ftyp);

  // No durations and no times of day: the moov is written before any sample, and the same
  // samples must give the same bytes.
  const auto moov = o.box("moov");
  const auto mvhd = o.full_box("mvhd", 0, 0);
  o.u32(0);          // creation time
  o.u32(0);          // modification time
  o.u32(1000);       // timescale
  o.u32(0);          // duration: in the fragments
  o.u32(0x00010000); // rate 1.0
  o.u16(0x0100);     // volume 1.0
  o.zeros(10);
  o.matrix();
  o.zeros(24);
  o.u32(static_cast<std::uint32_t>(m_tracks.size() + 1)); // next track id
  o.end(mvhd);

  for (const Track& t : m_tracks) {
    const auto trak = o.box("trak");
    const auto tkhd = o.full_box("tkhd", 0, 3); // enabled, in the movie
    o.u32(0);
    o.u32(0);
    o.u32(t.id);
    o.u32(0);
    o.u32(0); // duration
    o.zeros(8);
    o.u16(0);                    // layer
    o.u16(t.video ? 0 : 1);      // alternate group
    o.u16(t.video ? 0 : 0x0100); // volume
    o.u16(0);
    o.matrix();
    o.u32(t.video ? static_cast<std::uint32_t>(m_video.width) << 16 : 0);
    o.u32(t.video ? static_cast<std::uint32_t>(m_video.height) << 16 : 0);
    o.end(tkhd);

    const auto mdia = o.box("mdia");
    const auto mdhd = o.full_box("mdhd", 0, 0);
    o.u32(0);
    o.u32(0);
    o.u32(t.timescale);
    o.u32(0);
    o.u16(0x55c4); // language "und"
    o.u16(0);
    o.end(mdhd);
    const auto hdlr = o.full_box("hdlr", 0, 0);
    o.u32(0);
    o.fourcc(t.video ? "vide" : "soun");
    o.zeros(12);
    const std::string name = t.video ? "VideoHandler" : "SoundHandler";
    o.bytes({reinterpret_cast<const unsigned char*>(name.c_str()), name.size() + 1});
    o.end(hdlr);

    const auto minf = o.box("minf");
    if (t.video) {
      const auto vmhd = o.full_box("vmhd", 0, 1);
      o.zeros(8); // graphics mode copy, opcolor
      o.end(vmhd);
    } else {
      const auto smhd = o.full_box("smhd", 0, 0);
      o.zeros(4); // balance
      o.end(smhd);
    }
    const auto dinf = o.box("dinf");
    const auto dref = o.full_box("dref", 0, 0);
    o.u32(1);
    const auto url = o.full_box("url ", 0, 1); // the data is in this file
    o.end(url);
    o.end(dref);
    o.end(dinf);

    const auto stbl = o.box("stbl");
    const auto stsd = o.full_box("stsd", 0, 0);
    o.u32(1);
    if (t.video) {
      const auto avc1 = o.box("avc1");
      o.zeros(6);
      o.u16(1); // data reference index
      o.zeros(16);
      o.u16(static_cast<unsigned>(m_video.width));
      o.u16(static_cast<unsigned>(m_video.height));
      o.u32(0x00480000); // 72 dpi
      o.u32(0x00480000);
      o.u32(0);
      o.u16(1);    // frames per sample
      o.zeros(32); // compressor name: none
      o.u16(0x0018);
      o.u16(0xffff);
      const auto avcc = o.box("avcC");
      const auto& sps = m_video.sps;
      o.u8(1);      // configuration version
      o.u8(sps[1]); // profile
      o.u8(sps[2]); // profile compatibility
      o.u8(sps[3]); // level
      o.u8(0xff);   // 4-byte NAL unit lengths
      o.u8(0xe1);   // one SPS
      o.u16(static_cast<unsigned>(sps.size()));
      o.bytes(sps);
      o.u8(1); // one PPS
      o.u16(static_cast<unsigned>(m_video.pps.size()));
      o.bytes(m_video.pps);
      if (sps[1] != 66 && sps[1] != 77 && sps[1] != 88) (void)write_avcc_high(o, sps); // checked in open()
      o.end(avcc);
      btrt(o, m_video.bit_rate);
      o.end(avc1);
    } else {
      const AudioTrack& a = *m_audio;
      const auto mp4a = o.box("mp4a");
      o.zeros(6);
      o.u16(1); // data reference index
      o.zeros(8);
      o.u16(static_cast<unsigned>(a.channels));
      o.u16(16); // sample size
      o.u32(0);
      o.u32(static_cast<std::uint32_t>(a.sample_rate) << 16);
      const auto esds = o.full_box("esds", 0, 0);
      const auto dsi = static_cast<std::uint32_t>(a.config.size());
      const auto rate = static_cast<std::uint32_t>(std::clamp<std::int64_t>(a.bit_rate, 0, 0xffffffff));
      descriptor(o, 0x03, 3 + 5 + 13 + 5 + dsi + 5 + 1); // ES
      o.u16(t.id);
      o.u8(0);
      descriptor(o, 0x04, 13 + 5 + dsi); // decoder configuration
      o.u8(0x40);                        // MPEG-4 audio
      o.u8(0x15);                        // an audio stream
      o.u8(0);                           // buffer size: 24 bits, unknown
      o.u16(0);
      o.u32(rate);              // max bit rate
      o.u32(rate);              // average bit rate
      descriptor(o, 0x05, dsi); // decoder specific: the AudioSpecificConfig
      o.bytes(a.config);
      descriptor(o, 0x06, 1); // SL configuration: predefined for MP4
      o.u8(0x02);
      o.end(esds);
      btrt(o, a.bit_rate);
      o.end(mp4a);
    }
    o.end(stsd);
    // Empty sample tables: every sample is in a fragment.
    for (const char* type : {"stts", "stsc", "stsz", "stco"}) {
      const auto box = o.full_box(type, 0, 0);
      if (std::strcmp(type, "stsz") == 0) o.u32(0); // sample size
      o.u32(0);                                     // no entries
      o.end(box);
    }
    o.end(stbl);
    o.end(minf);
    o.end(mdia);
    o.end(trak);
  }

  const auto mvex = o.box("mvex");
  for (const Track& t : m_tracks) {
    const auto trex = o.full_box("trex", 0, 0);
    o.u32(t.id);
    o.u32(1); // sample description
    o.u32(0);
    o.u32(0);
    o.u32(0);
    o.end(trex);
  }
  o.end(mvex);
  o.end(moov);
  return b;
}

Result<void> Writer::add(Track& t, const Sample& s) {
  const char* kind = t.video ? "video" : "audio";
  const auto what = [&](const std::string& m) { return mux_fail(std::string(kind) + " packet: " + m); };
  if (s.data.empty()) return what("empty");
  if (s.data.size() > std::numeric_limits<std::uint32_t>::max() - 1024) return what("too large");
  if (s.dts < 0) return what("negative timestamp " + std::to_string(s.dts));
  if (s.pts < s.dts) return what("presented before it is decoded (B-frames are not supported)");
  if (t.last_dts >= 0 && s.dts <= t.last_dts)
    return what("timestamps do not increase: dts " + std::to_string(s.dts) + " after " + std::to_string(t.last_dts));
  if (s.duration < 0) return what("negative duration");
  constexpr std::int64_t k_max = std::numeric_limits<std::int64_t>::max() / 2;
  if (s.pts > k_max / t.scale || s.duration > k_max / t.scale) return what("timestamp out of range");
  if (s.pts - s.dts > std::int64_t{std::numeric_limits<std::uint32_t>::max()} / t.scale)
    return what("presentation too far after decoding");
  if (t.video && t.last_dts < 0 && !s.sync) return what("the first is not a keyframe");

  Entry e;
  // A track starts at time 0, as FFmpeg's muxer made it with an empty moov: a first sample that
  // starts later (sound whose first AAC frame straddled the clip's start) is stretched back to 0,
  // so sound starts with the picture.
  e.dts = t.last_dts < 0 ? 0 : s.dts * t.scale;
  e.lead = s.dts * t.scale - e.dts;
  e.offset = (s.pts - s.dts) * t.scale;
  e.duration = s.duration * t.scale;
  e.sync = s.sync;
  std::vector<unsigned char>& buf = bytes_of(t);
  const std::size_t before = buf.size();
  if (t.video) {
    // MP4 stores H.264 as 4-byte lengths before each unit (avcC says so); the SPS and PPS before
    // each IDR stay in band, as they were, so any GOP can be cut out and decoded on its own.
    bool too_large = false;
    const bool annexb = for_each_unit(s.data, [&](std::span<const unsigned char> u) {
      if (u.size() > std::numeric_limits<std::uint32_t>::max()) too_large = true;
      const auto n = static_cast<std::uint32_t>(u.size());
      buf.insert(buf.end(), {static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                             static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)});
      buf.insert(buf.end(), u.begin(), u.end());
    });
    too_large |= buf.size() - before > std::numeric_limits<std::uint32_t>::max();
    if (!annexb || too_large || buf.size() == before) {
      buf.resize(before);
      return what(!annexb ? "not Annex B (no start code)" : too_large ? "too large" : "no NAL unit in it");
    }
  } else {
    buf.insert(buf.end(), s.data.begin(), s.data.end());
  }
  e.size = static_cast<std::uint32_t>(buf.size() - before);
  t.bytes += e.size;
  t.entries.push_back(e);
  t.last_dts = s.dts;
  return {};
}

// Room kept before a fragment's video for its moof and the mdat header: a one-second GOP's at
// up to 120 fps and its sound need far less; more is made (moving the data) if ever needed.
constexpr std::size_t k_head = 4096;

std::vector<unsigned char>& Writer::bytes_of(Track& t) {
  if (!t.video) return t.data;
  if (m_frag.empty()) m_frag.resize(k_head);
  return m_frag;
}

// The last fragment has been handed out: its buffer starts the next (keeping its capacity).
void Writer::reclaim() {
  if (!m_emitted) return;
  m_frag.clear();
  m_emitted = false;
}

Result<void> Writer::add_video(const Sample& s) {
  reclaim();
  return add(m_tracks[0], s);
}

Result<void> Writer::add_audio(const Sample& s) {
  if (!has_audio()) return mux_fail("no audio track");
  reclaim();
  return add(m_tracks[1], s);
}

Result<std::span<const unsigned char>> Writer::fragment() {
  reclaim();
  // Each track's run: sample durations (the next sample's dts less this one's; the last sample's
  // its packet's, else the track's frame duration) and flags, checked before anything is written.
  struct Run {
    Track* t = nullptr;
    std::vector<std::uint32_t> durations;
    std::uint32_t flags = 0x000001; // data offset
    std::uint32_t default_flags = 0;
    std::size_t offset_at = 0; // where trun's data offset goes
  };
  std::vector<Run> runs;
  std::size_t data_bytes = 0;
  for (Track& t : m_tracks) {
    if (t.entries.empty()) continue;
    Run r;
    r.t = &t;
    const auto& e = t.entries;
    const std::size_t n = e.size();
    r.durations.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t d =
          i + 1 < n ? e[i + 1].dts - e[i].dts : e[i].lead + (e[i].duration > 0 ? e[i].duration : t.frame_duration);
      if (d <= 0) return mux_fail(std::string(t.video ? "video" : "audio") + " packet: no duration");
      if (d > std::numeric_limits<std::uint32_t>::max())
        return mux_fail(std::string(t.video ? "video" : "audio") + " packet: duration too long");
      r.durations[i] = static_cast<std::uint32_t>(d);
    }
    const auto flags = [&](std::size_t i) { return e[i].sync ? k_sync_flags : k_non_sync_flags; };
    r.default_flags = flags(n > 1 ? 1 : 0);
    bool each_flags = false, each_duration = false, each_size = false, offsets = false;
    for (std::size_t i = 0; i < n; ++i) {
      each_flags |= i > 0 && flags(i) != r.default_flags;
      each_duration |= r.durations[i] != r.durations[0];
      each_size |= e[i].size != e[0].size;
      offsets |= e[i].offset != 0;
    }
    if (each_flags)
      r.flags |= 0x000400;
    else if (flags(0) != r.default_flags)
      r.flags |= 0x000004; // first sample flags
    if (each_duration) r.flags |= 0x000100;
    if (each_size) r.flags |= 0x000200;
    if (offsets) r.flags |= 0x000800;
    data_bytes += t.bytes;
    runs.push_back(std::move(r));
  }
  if (runs.empty()) return std::span<const unsigned char>();

  m_moof.clear();
  Out o(m_moof);
  const auto moof = o.box("moof");
  const auto mfhd = o.full_box("mfhd", 0, 0);
  o.u32(++m_sequence);
  o.end(mfhd);
  for (Run& r : runs) {
    const Track& t = *r.t;
    const auto& e = t.entries;
    const auto traf = o.box("traf");
    // Defaults from the first sample (flags from the second, a GOP's first being its only sync
    // one); trun repeats only what differs.
    const auto tfhd = o.full_box("tfhd", 0, 0x020000 | 0x000008 | 0x000010 | 0x000020); // default-base-is-moof
    o.u32(t.id);
    o.u32(r.durations[0]);
    o.u32(e[0].size);
    o.u32(r.default_flags);
    o.end(tfhd);
    const auto tfdt = o.full_box("tfdt", 1, 0);
    o.u64(static_cast<std::uint64_t>(e[0].dts));
    o.end(tfdt);
    const auto trun = o.full_box("trun", 0, r.flags);
    o.u32(static_cast<std::uint32_t>(e.size()));
    r.offset_at = o.size();
    o.u32(0); // data offset, filled in below
    if (r.flags & 0x000004) o.u32(e[0].sync ? k_sync_flags : k_non_sync_flags);
    for (std::size_t i = 0; i < e.size(); ++i) {
      if (r.flags & 0x000100) o.u32(r.durations[i]);
      if (r.flags & 0x000200) o.u32(e[i].size);
      if (r.flags & 0x000400) o.u32(e[i].sync ? k_sync_flags : k_non_sync_flags);
      if (r.flags & 0x000800) o.u32(static_cast<std::uint32_t>(e[i].offset));
    }
    o.end(trun);
    o.end(traf);
  }
  o.end(moof);
  const std::size_t head = m_moof.size() + 8; // moof and mdat header
  if (head + data_bytes > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    return mux_fail("fragment too large"); // data offsets are 32-bit; a GOP is never near it
  std::size_t offset = head;               // from the moof's first byte: video, then sound
  for (const Run& r : runs) {
    o.put32(r.offset_at, static_cast<std::uint32_t>(offset));
    offset += r.t->bytes;
  }
  Out mdat(m_moof);
  mdat.u32(static_cast<std::uint32_t>(8 + data_bytes));
  mdat.fourcc("mdat");

  // The moof goes into the room before the video (made larger if it must), the sound after it.
  if (m_frag.empty()) m_frag.resize(k_head); // a fragment of sound alone
  if (head > k_head) m_frag.insert(m_frag.begin(), head - k_head, 0);
  const std::size_t start = std::max(k_head, head) - head;
  std::copy(m_moof.begin(), m_moof.end(), m_frag.begin() + static_cast<std::ptrdiff_t>(start));
  for (const Run& r : runs) {
    Track& t = *r.t;
    if (!t.video) {
      m_frag.insert(m_frag.end(), t.data.begin(), t.data.end());
      t.data.clear();
    }
    t.entries.clear();
    t.bytes = 0;
  }
  m_emitted = true;
  return std::span<const unsigned char>(m_frag).subspan(start);
}

} // namespace bwv::media::fmp4
