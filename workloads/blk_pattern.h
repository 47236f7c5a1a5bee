/* blk_pattern.h — the data blk-verify writes: block b (4 KiB) of a disk,
 * from a seed, 8 bytes at a time (splitmix64 of seed, block and word). A
 * pure header, so that a test can check an image file from outside the
 * guest. */
#ifndef FV_BLK_PATTERN_H
#define FV_BLK_PATTERN_H

#include <stdint.h>

#define BLK_PATTERN_BLOCK 4096u

static inline uint64_t blk_pattern_word(uint64_t seed, uint64_t block, uint32_t word)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (block * 512 + word + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Fill (or, returning the words that differ, check) one block. */
static inline void blk_pattern_fill(uint64_t seed, uint64_t block, uint8_t *buf)
{
    for (uint32_t w = 0; w < BLK_PATTERN_BLOCK / 8; w++) {
        uint64_t v = blk_pattern_word(seed, block, w);
        for (int k = 0; k < 8; k++)
            buf[w * 8 + k] = (uint8_t)(v >> (8 * k));
    }
}

static inline uint32_t blk_pattern_check(uint64_t seed, uint64_t block, const uint8_t *buf)
{
    uint32_t bad = 0;
    for (uint32_t w = 0; w < BLK_PATTERN_BLOCK / 8; w++) {
        uint64_t v = blk_pattern_word(seed, block, w), got = 0;
        for (int k = 0; k < 8; k++)
            got |= (uint64_t)buf[w * 8 + k] << (8 * k);
        bad += got != v;
    }
    return bad;
}

#endif
