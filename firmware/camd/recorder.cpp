#include "camd/recorder.hpp"

#include "core/text.hpp"

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/samplefmt.h>
}

#include <cmath>

namespace bwv::camd {

Result<Recorder> Recorder::open(const RecorderConfig& config, hal::Hal& hal, RecorderContext context) {
  auto video = BWV_TRY(media::VideoEncoder::open(config.video));
  std::optional<media::AudioEncoder> audio;
  if (config.audio) audio.emplace(BWV_TRY(media::AudioEncoder::open({})));
  return Recorder(config, hal, std::move(context), std::move(video), std::move(audio));
}

Millis Recorder::frame_ms(std::int64_t frame) const { return frame * 1000 / m_config.video.fps; }

std::int64_t Recorder::samples_at(std::int64_t frame) const {
  return frame * media::AudioSettings{}.sample_rate / m_config.video.fps;
}

std::time_t Recorder::frame_wall(std::int64_t frame) const { return m_ctx.wall(frame_ms(frame)); }

Millis Recorder::next_frame_time() const { return frame_ms(m_next_frame); }

void Recorder::new_gop() {
  m_current = Gop{};
  m_current.first_frame = m_next_frame;
  m_gop_origin = m_next_frame;
}

void Recorder::start_capture(Millis now) {
  const int fps = m_config.video.fps;
  m_next_frame = (now * fps + 999) / 1000; // the first frame at or after now
  m_next_sample = samples_at(m_next_frame);
  m_buffer.clear();
  m_buffer_bytes = 0;
  new_gop();
  m_capturing = true;
}

void Recorder::stop_capture() {
  m_capturing = false;
  m_buffer.clear();
  m_buffer_bytes = 0;
  m_current = Gop{};
}

void Recorder::skip_to(Millis to) {
  const int fps = m_config.video.fps;
  std::int64_t k = (to * fps + 999) / 1000;
  // Keep the GOP grid: the clip's first frame falls where it would have without the skip.
  k = m_gop_origin + ((k - m_gop_origin + fps - 1) / fps) * fps;
  if (k <= m_next_frame || m_clip) return;
  m_next_frame = k;
  m_next_sample = samples_at(k);
  m_buffer.clear();
  m_buffer_bytes = 0;
  new_gop(); // k is on the grid, so the origin moves by whole GOPs
}

Result<void> Recorder::capture_frame() {
  const std::int64_t k = m_next_frame;
  const bool gop_start = (k - m_gop_origin) % m_config.video.fps == 0;
  if (gop_start && m_current.frames > 0) {
    BWV_CHECK(gop_done());
    new_gop();
  }
  AVFrame* vf = m_video.frame();
  BWV_CHECK(m_hal->capture_video(vf, k));
  const std::size_t before = m_current.video.size();
  BWV_CHECK(m_video.encode(k, gop_start, m_current.video));
  for (std::size_t i = before; i < m_current.video.size(); ++i) m_current.bytes += m_current.video[i].data.size();
  if (m_audio) {
    while (m_next_sample < samples_at(k + 1)) {
      AVFrame* af = m_audio->frame();
      // Before a press, sound is not recorded unless configured: the microphone is not read and
      // the track holds silence, so picture and sound stay in step from the clip's first frame.
      if (m_clip || m_config.pre_event_audio)
        BWV_CHECK(m_hal->capture_audio(af, m_next_sample));
      else
        av_samples_set_silence(af->data, 0, af->nb_samples, af->ch_layout.nb_channels,
                               static_cast<AVSampleFormat>(af->format));
      const std::size_t a0 = m_current.audio.size();
      BWV_CHECK(m_audio->encode(m_next_sample, m_current.audio));
      for (std::size_t i = a0; i < m_current.audio.size(); ++i) m_current.bytes += m_current.audio[i].data.size();
      m_next_sample += m_audio->frame_samples();
    }
  }
  ++m_current.frames;
  ++m_next_frame;
  // A GOP is routed as soon as its last frame is in, so a press finds it in the buffer.
  if (m_current.frames == m_config.video.fps) {
    BWV_CHECK(gop_done());
    new_gop();
  }
  return {};
}

Result<void> Recorder::gop_done() {
  Gop g = std::move(m_current);
  m_current = Gop{};
  if (m_next_clip) BWV_CHECK(open_next_clip(g.first_frame));
  if (m_clip) {
    if (m_split) {
      // The clip ends with this GOP and its sound; the next clip begins with the next GOP.
      m_split = false;
      BWV_CHECK(flush_audio_into(g));
      BWV_CHECK(write_gop(g));
      ClipDone done;
      m_next_clip = BWV_TRY(finish_clip(true, done));
      return {};
    }
    return write_gop(g);
  }
  if (m_config.pre_event_seconds <= 0) return {};
  m_buffer_bytes += g.bytes;
  m_buffer.push_back(std::move(g));
  // Bounded in seconds and in bytes; whole GOPs, so the buffer always begins at an IDR.
  while (!m_buffer.empty() && (m_buffer.size() > static_cast<std::size_t>(m_config.pre_event_seconds) ||
                               m_buffer_bytes > m_config.pre_event_max_bytes)) {
    m_buffer_bytes -= m_buffer.front().bytes;
    m_buffer.pop_front();
  }
  return {};
}

Result<void> Recorder::write_gop(const Gop& g) {
  Open& c = *m_clip;
  // A stop on a GOP boundary leaves only the sound the encoder still held: a short last
  // fragment of sound alone.
  if (g.video.empty() && (g.audio.empty() || !c.mux)) return {};
  if (!c.mux) {
    auto sink = [this](std::span<const unsigned char> bytes) -> Result<void> {
      return m_clip->writer.piece(bytes, m_piece_end);
    };
    m_piece_end = frame_wall(c.first_frame);
    c.mux.emplace(BWV_TRY(media::Fmp4Writer::open(m_video, m_audio ? &*m_audio : nullptr, g.video.front(), sink)));
  }
  for (media::Packet p : g.video) {
    p.pts -= c.first_frame;
    p.dts -= c.first_frame;
    BWV_CHECK(c.mux->write_video(p));
  }
  if (m_audio) {
    const std::int64_t base = samples_at(c.first_frame);
    for (media::Packet p : g.audio) {
      // A packet that starts before the clip's first frame (the encoder's priming, or one
      // straddling the start) is left out: at most one AAC frame, 21 ms.
      if (p.pts < base) continue;
      p.pts -= base;
      p.dts -= base;
      BWV_CHECK(c.mux->write_audio(p));
    }
  }
  m_piece_end = frame_wall(g.first_frame + g.frames);
  BWV_CHECK(c.mux->fragment());
  c.frames += g.frames;
  return {};
}

Result<void> Recorder::start_clip(manifest::Manifest meta, Millis press) {
  const std::int64_t first = m_buffer.empty() ? m_current.first_frame : m_buffer.front().first_frame;
  meta.start = frame_wall(first);
  const double pre = std::max<double>(0, double(press - frame_ms(first)) / 1000.0);
  meta.pre_event_seconds = std::min(120, static_cast<int>(std::lround(pre)));
  meta.clip_id = text::make_clip_id(meta.start, meta.device, meta.seq);
  auto writer = BWV_TRY(ClipWriter::create(*m_ctx.storage, *m_ctx.internal, meta, *m_ctx.seal));
  m_clip.emplace(Open{std::move(writer), std::nullopt, first, 0});
  while (!m_buffer.empty()) {
    BWV_CHECK(write_gop(m_buffer.front()));
    m_buffer_bytes -= m_buffer.front().bytes;
    m_buffer.pop_front();
  }
  return {};
}

Result<manifest::Manifest> Recorder::finish_clip(bool split, ClipDone& done) {
  Open& c = *m_clip;
  done.id = c.writer.meta().clip_id;
  done.seq = c.writer.meta().seq;
  done.frames = static_cast<std::uint64_t>(c.frames);
  done.manifest_sha256 = BWV_TRY(c.writer.finish(frame_wall(c.first_frame + c.frames), *m_ctx.key));
  auto next = BWV_TRY(m_ctx.clip_done(done, split));
  BWV_CHECK(c.writer.forget());
  m_clip.reset();
  return next;
}

Result<void> Recorder::open_next_clip(std::int64_t first_frame) {
  manifest::Manifest meta = std::move(*m_next_clip);
  m_next_clip.reset();
  meta.start = frame_wall(first_frame);
  meta.pre_event_seconds = 0;
  meta.clip_id = text::make_clip_id(meta.start, meta.device, meta.seq);
  auto writer = BWV_TRY(ClipWriter::create(*m_ctx.storage, *m_ctx.internal, meta, *m_ctx.seal));
  m_clip.emplace(Open{std::move(writer), std::nullopt, first_frame, 0});
  return {};
}

Result<void> Recorder::flush_audio_into(Gop& g) {
  if (!m_audio) return {};
  const std::size_t before = g.audio.size();
  BWV_CHECK(m_audio->flush(g.audio));
  for (std::size_t i = before; i < g.audio.size(); ++i) g.bytes += g.audio[i].data.size();
  m_audio.emplace(BWV_TRY(media::AudioEncoder::open({})));
  return {};
}

Result<ClipDone> Recorder::stop_clip() {
  if (!recording()) return fail(Errc::internal, "recorder", "no clip to stop");
  m_split = false; // a split asked for just before the stop is moot
  if (m_next_clip) BWV_CHECK(open_next_clip(m_current.first_frame));
  BWV_CHECK(flush_audio_into(m_current));
  BWV_CHECK(write_gop(m_current));
  m_current = Gop{};
  ClipDone done;
  (void)BWV_TRY(finish_clip(false, done));
  new_gop(); // if capture goes on, it starts a GOP
  return done;
}

void Recorder::power_cut() {
  m_clip.reset(); // files stay as they are: recovery finishes them at the next boot
  m_next_clip.reset();
  m_split = false;
  stop_capture();
}

} // namespace bwv::camd
