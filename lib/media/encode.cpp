#include "media/encode.hpp"

#include "media/av.hpp"
#include "media/fmp4.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

#include <algorithm>
#include <cstring>
#include <optional>

namespace bwv::media {

namespace {

using av::CodecPtr;
using av::FramePtr;
using av::PacketPtr;

std::unexpected<Error> av_fail(std::string_view what, int err) {
  return fail(Errc::internal, "ffmpeg", std::string(what) + ": " + av::message(err));
}

// Drains an encoder into out; EAGAIN and EOF end the drain.
Result<void> drain(AVCodecContext* c, AVPacket* pkt, std::vector<Packet>& out, bool video) {
  for (;;) {
    const int rc = avcodec_receive_packet(c, pkt);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return {};
    if (rc < 0) return av_fail("receive packet", rc);
    Packet p;
    p.data.assign(pkt->data, pkt->data + pkt->size);
    p.pts = pkt->pts;
    p.dts = pkt->dts;
    p.duration = pkt->duration;
    p.key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    if (video) strip_sei(p.data);
    out.push_back(std::move(p));
    av_packet_unref(pkt);
  }
}

// Start codes of an Annex B stream: the offset of each NAL unit's first byte after its start code,
// and where its start code began.
struct Nal {
  std::size_t code;  // start of the start code
  std::size_t begin; // first byte of the NAL unit
};

std::vector<Nal> find_nals(const std::vector<unsigned char>& b) {
  std::vector<Nal> nals;
  for (std::size_t i = 0; i + 3 <= b.size(); ++i) {
    if (b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1) {
      const std::size_t code = (i > 0 && b[i - 1] == 0) ? i - 1 : i;
      nals.push_back({code, i + 3});
      i += 2;
    }
  }
  return nals;
}

} // namespace

void strip_sei(std::vector<unsigned char>& b) {
  const auto nals = find_nals(b);
  const auto is_sei = [&](const Nal& n) { return n.begin < b.size() && (b[n.begin] & 0x1f) == 6; };
  // Most packets have none: no copy for them (a packet at 1080p is tens of kilobytes a frame).
  if (std::none_of(nals.begin(), nals.end(), is_sei)) return;
  std::vector<unsigned char> out;
  out.reserve(b.size());
  for (std::size_t i = 0; i < nals.size(); ++i) {
    const std::size_t end = i + 1 < nals.size() ? nals[i + 1].code : b.size();
    if (is_sei(nals[i])) continue;
    out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(nals[i].code),
               b.begin() + static_cast<std::ptrdiff_t>(end));
  }
  b = std::move(out);
}

// ---- video ----

struct VideoEncoder::Impl {
  VideoSettings settings;
  CodecPtr ctx;
  FramePtr frame;
  PacketPtr pkt;
};

VideoEncoder::VideoEncoder(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
VideoEncoder::VideoEncoder(VideoEncoder&&) noexcept = default;
VideoEncoder& VideoEncoder::operator=(VideoEncoder&&) noexcept = default;
VideoEncoder::~VideoEncoder() = default;

Result<VideoEncoder> VideoEncoder::open(const VideoSettings& s) {
  if (s.width < 16 || s.height < 16 || s.width % 2 || s.height % 2 || s.fps < 1 || s.fps > 120)
    return fail(Errc::usage, "video", "unsupported size or frame rate");
  // libx264 prints statistics when closed; a command is quiet on success.
  av_log_set_level(AV_LOG_ERROR);
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) return fail(Errc::internal, "ffmpeg", "this FFmpeg has no libx264 encoder");
  auto impl = std::make_unique<Impl>();
  impl->settings = s;
  impl->ctx.reset(avcodec_alloc_context3(codec));
  impl->frame.reset(av_frame_alloc());
  impl->pkt.reset(av_packet_alloc());
  if (!impl->ctx || !impl->frame || !impl->pkt) return fail(Errc::internal, "ffmpeg", "out of memory");
  AVCodecContext* c = impl->ctx.get();
  c->width = s.width;
  c->height = s.height;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->time_base = {1, s.fps};
  c->framerate = {s.fps, 1};
  c->gop_size = s.fps;
  c->keyint_min = s.fps;
  c->max_b_frames = 0;
  c->bit_rate = static_cast<std::int64_t>(s.bitrate_kbps) * 1000;
  c->rc_max_rate = c->bit_rate * 3 / 2;
  c->rc_buffer_size = static_cast<int>(c->bit_rate); // one second of video
  c->thread_count = 1; // a camera's core, and deterministic output for tests
  av_opt_set(c->priv_data, "preset", s.preset.c_str(), 0);
  av_opt_set(c->priv_data, "tune", "zerolatency", 0); // a packet per frame, nothing held back
  av_opt_set(c->priv_data, "forced-idr", "1", 0);
  const std::string params = "keyint=" + std::to_string(s.fps) + ":min-keyint=" + std::to_string(s.fps) +
                             ":scenecut=0:bframes=0:open-gop=0:repeat-headers=1:force-cfr=1";
  av_opt_set(c->priv_data, "x264-params", params.c_str(), 0);
  if (s.qp >= 0) av_opt_set_int(c->priv_data, "qp", s.qp, 0);
  if (const int rc = avcodec_open2(c, codec, nullptr); rc < 0) return av_fail("open libx264", rc);
  AVFrame* f = impl->frame.get();
  f->format = c->pix_fmt;
  f->width = c->width;
  f->height = c->height;
  if (const int rc = av_frame_get_buffer(f, 0); rc < 0) return av_fail("frame buffer", rc);
  return VideoEncoder(std::move(impl));
}

AVFrame* VideoEncoder::frame() {
  av_frame_make_writable(m->frame.get());
  return m->frame.get();
}

Result<void> VideoEncoder::encode(std::int64_t pts, bool gop_start, std::vector<Packet>& out) {
  AVFrame* f = m->frame.get();
  f->pts = pts;
  // Every GOP starts with an IDR at a fixed place: forced, not left to scene detection.
  f->pict_type = gop_start ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
  if (const int rc = avcodec_send_frame(m->ctx.get(), f); rc < 0) return av_fail("encode video", rc);
  return drain(m->ctx.get(), m->pkt.get(), out, true);
}

const VideoSettings& VideoEncoder::settings() const { return m->settings; }
const AVCodecContext* VideoEncoder::context() const { return m->ctx.get(); }

std::string VideoEncoder::description() const {
  const auto& s = m->settings;
  return std::string("libavcodec ") + LIBAVCODEC_IDENT + " libx264 " + std::to_string(s.width) + "x" +
         std::to_string(s.height) + "@" + std::to_string(s.fps) + " " + std::to_string(s.bitrate_kbps) +
         "kbps" + (s.qp >= 0 ? " qp=" + std::to_string(s.qp) : std::string()) + " preset=" + s.preset +
         " gop=" + std::to_string(s.fps) + " closed no-bframes";
}

// ---- audio ----

struct AudioEncoder::Impl {
  CodecPtr ctx;
  FramePtr frame;
  PacketPtr pkt;
};

AudioEncoder::AudioEncoder(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
AudioEncoder::AudioEncoder(AudioEncoder&&) noexcept = default;
AudioEncoder& AudioEncoder::operator=(AudioEncoder&&) noexcept = default;
AudioEncoder::~AudioEncoder() = default;

Result<AudioEncoder> AudioEncoder::open(const AudioSettings& s) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (!codec) return fail(Errc::internal, "ffmpeg", "this FFmpeg has no AAC encoder");
  auto impl = std::make_unique<Impl>();
  impl->ctx.reset(avcodec_alloc_context3(codec));
  impl->frame.reset(av_frame_alloc());
  impl->pkt.reset(av_packet_alloc());
  if (!impl->ctx || !impl->frame || !impl->pkt) return fail(Errc::internal, "ffmpeg", "out of memory");
  AVCodecContext* c = impl->ctx.get();
  c->sample_rate = s.sample_rate;
  c->sample_fmt = AV_SAMPLE_FMT_FLTP;
  av_channel_layout_default(&c->ch_layout, 1);
  c->bit_rate = static_cast<std::int64_t>(s.bitrate_kbps) * 1000;
  c->time_base = {1, s.sample_rate};
  // Without it the first frame carries the encoder's name and version in a fill element.
  c->flags |= AV_CODEC_FLAG_BITEXACT;
  if (const int rc = avcodec_open2(c, codec, nullptr); rc < 0) return av_fail("open aac", rc);
  AVFrame* f = impl->frame.get();
  f->format = c->sample_fmt;
  f->sample_rate = c->sample_rate;
  f->nb_samples = c->frame_size;
  av_channel_layout_copy(&f->ch_layout, &c->ch_layout);
  if (const int rc = av_frame_get_buffer(f, 0); rc < 0) return av_fail("frame buffer", rc);
  return AudioEncoder(std::move(impl));
}

int AudioEncoder::frame_samples() const { return m->ctx->frame_size; }

AVFrame* AudioEncoder::frame() {
  av_frame_make_writable(m->frame.get());
  return m->frame.get();
}

Result<void> AudioEncoder::encode(std::int64_t first_sample, std::vector<Packet>& out) {
  m->frame->pts = first_sample;
  if (const int rc = avcodec_send_frame(m->ctx.get(), m->frame.get()); rc < 0) return av_fail("encode audio", rc);
  return drain(m->ctx.get(), m->pkt.get(), out, false);
}

Result<void> AudioEncoder::flush(std::vector<Packet>& out) {
  if (const int rc = avcodec_send_frame(m->ctx.get(), nullptr); rc < 0) return av_fail("flush audio", rc);
  return drain(m->ctx.get(), m->pkt.get(), out, false);
}

const AVCodecContext* AudioEncoder::context() const { return m->ctx.get(); }

// ---- fragmented MP4 ----

// The muxing itself is lib/media/fmp4 (no libavformat): this wraps it for the encoders' packets.
struct Fmp4Writer::Impl {
  Sink sink;
  fmp4::Writer mux;
};

Fmp4Writer::Fmp4Writer(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
Fmp4Writer::Fmp4Writer(Fmp4Writer&&) noexcept = default;
Fmp4Writer& Fmp4Writer::operator=(Fmp4Writer&&) noexcept = default;
Fmp4Writer::~Fmp4Writer() = default;

Result<Fmp4Writer> Fmp4Writer::open(const VideoEncoder& video, const AudioEncoder* audio,
                                    const Packet& first_idr, Sink sink) {
  const AVCodecContext* vc = video.context();
  fmp4::VideoTrack vt;
  vt.width = vc->width;
  vt.height = vc->height;
  vt.time_base = {vc->time_base.num, vc->time_base.den};
  // libx264's packets carry no duration: a frame's, at the constant frame rate.
  vt.frame_duration = std::max<std::int64_t>(1, av_rescale_q(1, av_inv_q(vc->framerate), vc->time_base));
  vt.bit_rate = vc->bit_rate;
  // The SPS and PPS that begin the first IDR become the track's decoder configuration.
  for (const auto unit : fmp4::annexb_units(first_idr.data)) {
    const int type = unit[0] & 0x1f;
    if (type == 7 && vt.sps.empty()) vt.sps.assign(unit.begin(), unit.end());
    if (type == 8 && vt.pps.empty()) vt.pps.assign(unit.begin(), unit.end());
  }
  if (!first_idr.key || vt.sps.empty() || vt.pps.empty())
    return fail(Errc::internal, "video", "the first packet is not an IDR with SPS and PPS");
  std::optional<fmp4::AudioTrack> at;
  if (audio) {
    const AVCodecContext* ac = audio->context();
    at.emplace();
    at->sample_rate = ac->sample_rate;
    at->channels = ac->ch_layout.nb_channels;
    at->time_base = {ac->time_base.num, ac->time_base.den};
    at->frame_duration = ac->frame_size;
    at->bit_rate = ac->bit_rate;
    if (ac->extradata_size > 0) at->config.assign(ac->extradata, ac->extradata + ac->extradata_size);
  }
  auto mux = BWV_TRY(fmp4::Writer::open(std::move(vt), std::move(at)));
  auto impl = std::make_unique<Impl>(Impl{std::move(sink), std::move(mux)});
  BWV_CHECK(impl->sink(impl->mux.init_segment()));
  return Fmp4Writer(std::move(impl));
}

Result<void> Fmp4Writer::write_video(const Packet& p) {
  return m->mux.add_video({.data = p.data, .pts = p.pts, .dts = p.dts, .duration = p.duration, .sync = p.key});
}

Result<void> Fmp4Writer::write_audio(const Packet& p) {
  return m->mux.add_audio({.data = p.data, .pts = p.pts, .dts = p.dts, .duration = p.duration, .sync = p.key});
}

Result<void> Fmp4Writer::fragment() {
  const auto piece = BWV_TRY(m->mux.fragment());
  if (piece.empty()) return {};
  return m->sink(piece);
}

} // namespace bwv::media
