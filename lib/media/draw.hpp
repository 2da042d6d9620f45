// Redaction's pixel and sample operations, in place on decoded FFmpeg frames. Each one changes
// only what lies inside its rect or sample range (fill's chroma edge aside, see fill()), so a
// redaction touches nothing it was not asked to.
//
// Preconditions, which the caller guarantees: video frames are AV_PIX_FMT_YUV420P and audio
// frames AV_SAMPLE_FMT_FLTP, and the frame is writable (av_frame_make_writable). A frame of any
// other format aborts the process rather than pass through unredacted.
#pragma once

#include <cstdint>

struct AVFrame;

namespace bwv::media {

// A rectangle in luma pixels; it may lie partly or wholly outside the frame (it is clipped).
struct Rect {
  int x, y, w, h;
};

// The least a pixelate cell and a blur radius may be: below these a face stays recognisable.
// Smaller values are raised to these; a spec parser should reject them instead.
inline constexpr int k_min_pixelate_block = 8;
inline constexpr int k_min_blur_radius = 4;

// Paints the rect in one colour (BT.601 limited range, what x264 assumes by default). The
// default redaction: it leaves nothing of the original.
void fill(AVFrame* f, Rect r, std::uint8_t red, std::uint8_t green, std::uint8_t blue);

// A mosaic of block x block cells aligned to the rect's origin, each the mean of its own pixels
// inside the rect (and inside the frame); chroma likewise at half resolution.
void pixelate(AVFrame* f, Rect r, int block);

// A Gaussian-like blur (a box blur of the given radius three times, separably) that reads only
// pixels inside the rect.
void blur(AVFrame* f, Rect r, int radius);

// The frame holds samples [first_sample, first_sample + nb_samples); those in [from, to) become
// silence.
void mute(AVFrame* a, std::int64_t first_sample, std::int64_t from_sample, std::int64_t to_sample);

// Likewise, but a 1 kHz tone at -12 dBFS (amplitude 0.25) whose phase follows the absolute sample
// number, so it runs on without a click from one frame to the next.
void bleep(AVFrame* a, std::int64_t first_sample, std::int64_t from_sample, std::int64_t to_sample,
           int sample_rate);

} // namespace bwv::media
