/* tg-cursor-picture.h
 *
 * Copyright 2026 The Casement authors
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * You should have received a copy of the GNU General Public License
 * along with this program.  If not, see <http://www.gnu.org/licenses/>.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* The cursor picture the test guest's tg-cursor sets, and that
 * tests/test-display.c expects to see: one definition for both sides.
 * Plain C, as tg-cursor builds against libc alone. */

#pragma once

#include <stdint.h>

#define TG_CURSOR_SIZE  64
#define TG_CURSOR_HOT_X 5
#define TG_CURSOR_HOT_Y 11

/* Pixel (@x, @y) as ARGB8888 (alpha in the top byte), not premultiplied.
 * Red grows to the right and green downwards, so a flip or a swap of
 * channels shows; the bottom-right quadrant is transparent and a frame
 * of the top-left quadrant is white, so the alpha and the origin show
 * too. Alpha is 0 or 255 only: premultiplying on the way to the X
 * server then changes no pixel. */
static inline uint32_t
tg_cursor_pixel (unsigned x,
                 unsigned y)
{
  if (x >= TG_CURSOR_SIZE / 2 && y >= TG_CURSOR_SIZE / 2)
    return 0;
  if ((x == 0 || y == 0) && x < TG_CURSOR_SIZE / 2 && y < TG_CURSOR_SIZE / 2)
    return 0xffffffff;

  return 0xff000000u | (x * 4u) << 16 | (y * 4u) << 8 | 0x40u;
}
