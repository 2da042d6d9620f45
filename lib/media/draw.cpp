#include "media/draw.hpp"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
#include <libavutil/samplefmt.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <vector>

namespace bwv::media {

namespace {

// Checked in every build: NDEBUG must not turn a wrong frame into a silently unredacted one.
void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "bwv: internal error: %s\n", what);
  std::abort();
}

void require_video(const AVFrame* f) {
  require(f && f->format == AV_PIX_FMT_YUV420P && f->width > 0 && f->height > 0,
          "redaction needs a yuv420p video frame");
}

void require_audio(const AVFrame* a) {
  require(a && a->format == AV_SAMPLE_FMT_FLTP && a->nb_samples >= 0,
          "redaction needs a planar float audio frame");
}

// A half-open range of samples of one plane: [x0, x1) x [y0, y1).
struct Area {
  int x0, y0, x1, y1;
  bool empty() const { return x0 >= x1 || y0 >= y1; }
};

// The rect within a width x height plane; 64-bit so that a huge rect cannot overflow.
Area clip(Rect r, int width, int height) {
  const auto lo = [](std::int64_t v, int n) {
    return static_cast<int>(std::clamp<std::int64_t>(v, 0, n));
  };
  const std::int64_t w = std::max(r.w, 0), h = std::max(r.h, 0);
  return {lo(r.x, width), lo(r.y, height), lo(std::int64_t{r.x} + w, width),
          lo(std::int64_t{r.y} + h, height)};
}

int chroma_size(int luma) { return (luma + 1) / 2; }

// Chroma samples whose 2x2 luma block touches the area.
Area chroma_outer(Area a) { return {a.x0 / 2, a.y0 / 2, (a.x1 + 1) / 2, (a.y1 + 1) / 2}; }

// Chroma samples whose 2x2 luma block (the part inside the frame) lies wholly in the area: changing
// one of these changes no pixel outside it.
Area chroma_inner(Area a, int width, int height) {
  return {(a.x0 + 1) / 2, (a.y0 + 1) / 2, a.x1 == width ? chroma_size(width) : a.x1 / 2,
          a.y1 == height ? chroma_size(height) : a.y1 / 2};
}

int floor_half(int v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

void fill_plane(std::uint8_t* data, int linesize, Area a, std::uint8_t v) {
  for (int y = a.y0; y < a.y1; ++y)
    std::fill(data + y * linesize + a.x0, data + y * linesize + a.x1, v);
}

// Cells of cell x cell samples from (ox, oy), each set to its mean over the part inside the area.
void pixelate_plane(std::uint8_t* data, int linesize, Area a, int ox, int oy, int cell) {
  if (a.empty()) return;
  // a.x0 >= ox and a.y0 >= oy, so these divisions round down.
  for (std::int64_t cy = oy + std::int64_t{a.y0 - oy} / cell * cell; cy < a.y1; cy += cell) {
    const int y0 = static_cast<int>(std::max<std::int64_t>(cy, a.y0));
    const int y1 = static_cast<int>(std::min<std::int64_t>(cy + cell, a.y1));
    for (std::int64_t cx = ox + std::int64_t{a.x0 - ox} / cell * cell; cx < a.x1; cx += cell) {
      const int x0 = static_cast<int>(std::max<std::int64_t>(cx, a.x0));
      const int x1 = static_cast<int>(std::min<std::int64_t>(cx + cell, a.x1));
      std::int64_t sum = 0;
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) sum += data[y * linesize + x];
      const std::int64_t n = std::int64_t{y1 - y0} * (x1 - x0);
      fill_plane(data, linesize, {x0, y0, x1, y1}, static_cast<std::uint8_t>((sum + n / 2) / n));
    }
  }
}

// One box pass over v[0, n): each value becomes the mean of those within radius of it that exist,
// so nothing beyond the ends is read and a constant run stays constant.
void box(std::vector<int>& v, int n, int radius, std::vector<std::int64_t>& prefix) {
  prefix[0] = 0;
  for (int i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + v[i];
  for (int i = 0; i < n; ++i) {
    const int lo = std::max(0, i - radius), hi = std::min(n, i + radius + 1);
    v[i] = static_cast<int>((prefix[hi] - prefix[lo] + (hi - lo) / 2) / (hi - lo));
  }
}

// Three box passes approach a Gaussian; rows then columns, each over the area only.
void blur_plane(std::uint8_t* data, int linesize, Area a, int radius) {
  if (a.empty()) return;
  const int n = std::max(a.x1 - a.x0, a.y1 - a.y0);
  std::vector<int> line(static_cast<std::size_t>(n));
  std::vector<std::int64_t> prefix(static_cast<std::size_t>(n) + 1);
  const auto run = [&](std::uint8_t* first, std::ptrdiff_t step, int len) {
    for (int i = 0; i < len; ++i) line[i] = first[i * step];
    for (int pass = 0; pass < 3; ++pass) box(line, len, radius, prefix);
    for (int i = 0; i < len; ++i) first[i * step] = static_cast<std::uint8_t>(line[i]);
  };
  for (int y = a.y0; y < a.y1; ++y) run(data + y * linesize + a.x0, 1, a.x1 - a.x0);
  for (int x = a.x0; x < a.x1; ++x) run(data + a.y0 * linesize + x, linesize, a.y1 - a.y0);
}

// The samples of a frame starting at first that fall in [from, to), as indices into the frame.
struct Span {
  int begin, end;
};

Span overlap(const AVFrame* a, std::int64_t first, std::int64_t from, std::int64_t to) {
  const std::int64_t lo = std::max(from, first), hi = std::min(to, first + a->nb_samples);
  if (lo >= hi) return {0, 0};
  return {static_cast<int>(lo - first), static_cast<int>(hi - first)};
}

} // namespace

void fill(AVFrame* f, Rect r, std::uint8_t red, std::uint8_t green, std::uint8_t blue) {
  require_video(f);
  const Area a = clip(r, f->width, f->height);
  if (a.empty()) return;
  // BT.601, limited range (Y 16..235, Cb/Cr 16..240).
  const double rr = red, gg = green, bb = blue;
  const auto to8 = [](double v) {
    return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
  };
  const std::uint8_t y = to8(16 + (65.481 * rr + 128.553 * gg + 24.966 * bb) / 255);
  const std::uint8_t cb = to8(128 + (-37.797 * rr - 74.203 * gg + 112.0 * bb) / 255);
  const std::uint8_t cr = to8(128 + (112.0 * rr - 93.786 * gg - 18.214 * bb) / 255);
  fill_plane(f->data[0], f->linesize[0], a, y);
  // Every chroma sample whose 2x2 block touches the rect, so no original colour survives at an
  // odd edge; the paint may reach one pixel past such an edge, which errs on the safe side.
  const Area c = chroma_outer(a);
  fill_plane(f->data[1], f->linesize[1], c, cb);
  fill_plane(f->data[2], f->linesize[2], c, cr);
}

void pixelate(AVFrame* f, Rect r, int block) {
  require_video(f);
  block = std::max(block, k_min_pixelate_block);
  const Area a = clip(r, f->width, f->height);
  if (a.empty()) return;
  pixelate_plane(f->data[0], f->linesize[0], a, r.x, r.y, block);
  // Only chroma samples wholly inside the rect: at an odd edge the shared sample keeps its colour
  // (one pixel wide) rather than change a pixel outside.
  const Area c = chroma_inner(a, f->width, f->height);
  for (int p = 1; p <= 2; ++p)
    pixelate_plane(f->data[p], f->linesize[p], c, floor_half(r.x), floor_half(r.y), block / 2);
}

// A blur keeps the information, only spread: deblurring can recover a good part of it, and a
// blurred face or plate may still be matched against candidates. That is why fill is the default
// and blur a choice for context where identity does not matter.
void blur(AVFrame* f, Rect r, int radius) {
  require_video(f);
  radius = std::max(radius, k_min_blur_radius);
  const Area a = clip(r, f->width, f->height);
  if (a.empty()) return;
  blur_plane(f->data[0], f->linesize[0], a, radius);
  // Chroma as in pixelate: only samples wholly inside the rect, at half the radius.
  const Area c = chroma_inner(a, f->width, f->height);
  for (int p = 1; p <= 2; ++p) blur_plane(f->data[p], f->linesize[p], c, (radius + 1) / 2);
}

void mute(AVFrame* a, std::int64_t first_sample, std::int64_t from_sample, std::int64_t to_sample) {
  require_audio(a);
  const Span s = overlap(a, first_sample, from_sample, to_sample);
  for (int c = 0; c < a->ch_layout.nb_channels; ++c) {
    auto* p = reinterpret_cast<float*>(a->extended_data[c]);
    std::fill(p + s.begin, p + s.end, 0.0f);
  }
}

void bleep(AVFrame* a, std::int64_t first_sample, std::int64_t from_sample, std::int64_t to_sample,
           int sample_rate) {
  require_audio(a);
  require(sample_rate > 0, "bleep needs a sample rate");
  constexpr std::int64_t k_hz = 1000;
  constexpr float k_amplitude = 0.25f; // -12 dBFS
  const Span s = overlap(a, first_sample, from_sample, to_sample);
  for (int i = s.begin; i < s.end; ++i) {
    // The phase from the absolute sample number, reduced exactly first so that hours into a
    // recording it is as precise as at its start.
    std::int64_t cycle = (first_sample + i) * k_hz % sample_rate;
    if (cycle < 0) cycle += sample_rate;
    const double phase = 2 * std::numbers::pi * double(cycle) / sample_rate;
    const float v = k_amplitude * static_cast<float>(std::sin(phase));
    for (int c = 0; c < a->ch_layout.nb_channels; ++c)
      reinterpret_cast<float*>(a->extended_data[c])[i] = v;
  }
}

} // namespace bwv::media
