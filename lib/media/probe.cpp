#include "media/probe.hpp"

#include "media/av.hpp"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

#include <memory>

namespace bwv::media {

Result<Info> probe(const fs::Path& path) {
  // Errors come back as one line from bwv, not as FFmpeg's own log.
  av_log_set_level(AV_LOG_QUIET);
  AVFormatContext* raw = nullptr;
  if (int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); rc < 0)
    return fail(Errc::check_failed, path, "cannot open as media: " + av::message(rc));
  av::InputPtr ctx(raw);
  if (avformat_find_stream_info(ctx.get(), nullptr) < 0)
    return fail(Errc::check_failed, path, "cannot read stream information");
  Info info;
  info.format = ctx->iformat->name;
  if (ctx->duration != AV_NOPTS_VALUE) info.duration_ms = ctx->duration / (AV_TIME_BASE / 1000);
  for (unsigned i = 0; i < ctx->nb_streams; ++i) {
    const AVCodecParameters* par = ctx->streams[i]->codecpar;
    Stream s;
    const char* type = av_get_media_type_string(par->codec_type);
    s.type = type ? type : "unknown";
    s.codec = avcodec_get_name(par->codec_id);
    s.width = par->width;
    s.height = par->height;
    s.sample_rate = par->sample_rate;
    info.streams.push_back(std::move(s));
  }
  return info;
}

} // namespace bwv::media
