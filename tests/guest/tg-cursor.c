/* tg-cursor.c
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

/* tg-cursor sets a hardware cursor on the test guest's first lit CRTC
 * through the kernel's DRM interface (the qxl driver), so that QEMU sends
 * its shape over the SPICE cursor channel; then it obeys commands, one per
 * line, read from the FIFO named on its command line:
 *   show          set the picture of tg-cursor-picture.h again
 *   move <x> <y>  move the cursor to (x, y) on the CRTC
 *   hide          remove the cursor (handle 0)
 * It reports each step on stdout as a "TG: cursor …" line (see
 * tests/guest/init) and keeps running: the cursor lives only as long as
 * the DRM file that set it stays open.
 *
 * Built on the host by build-test-guest with gcc -static against libc and
 * the kernel's DRM UAPI headers only: the initramfs has no shared
 * libraries for it, and no libdrm.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

#include "tg-cursor-picture.h"

#define CARD "/dev/dri/card0"

static int card = -1;
static uint32_t crtc_id;
static uint32_t cursor_handle;

static void
report (const char *format,
        ...) __attribute__ ((format (printf, 1, 2)));

static void
report (const char *format,
        ...)
{
  va_list args;

  printf ("TG: cursor ");
  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  printf ("\n");
  fflush (stdout);
}

/* ioctl that retries when a signal interrupts it, as libdrm's drmIoctl. */
static int
drm_ioctl (unsigned long request,
           void         *arg)
{
  int ret;

  do
    ret = ioctl (card, request, arg);
  while (ret == -1 && (errno == EINTR || errno == EAGAIN));

  return ret;
}

/* The CRTC that drives the first connected connector: the one fbdev
 * emulation lit when the driver loaded. */
static int
find_crtc (void)
{
  struct drm_mode_card_res res = { 0 };
  uint32_t connectors[16];
  uint32_t n;

  if (drm_ioctl (DRM_IOCTL_MODE_GETRESOURCES, &res) != 0)
    {
      report ("error: GETRESOURCES: %s", strerror (errno));
      return -1;
    }
  /* The kernel fills in as many as asked for, and then says how many
   * there are. */
  n = res.count_connectors < 16 ? res.count_connectors : 16;
  res.count_connectors = n;
  res.count_fbs = res.count_crtcs = res.count_encoders = 0;
  res.connector_id_ptr = (uintptr_t) connectors;
  if (drm_ioctl (DRM_IOCTL_MODE_GETRESOURCES, &res) != 0)
    {
      report ("error: GETRESOURCES: %s", strerror (errno));
      return -1;
    }

  for (uint32_t i = 0; i < n; i++)
    {
      struct drm_mode_get_connector conn = { .connector_id = connectors[i] };
      struct drm_mode_get_encoder enc = { 0 };
      struct drm_mode_crtc crtc = { 0 };

      /* With every count 0 only the counts and the state come back: no
       * arrays to provide. */
      if (drm_ioctl (DRM_IOCTL_MODE_GETCONNECTOR, &conn) != 0)
        continue;
      /* 1 is DRM_MODE_CONNECTED */
      if (conn.connection != 1 || conn.encoder_id == 0)
        continue;
      enc.encoder_id = conn.encoder_id;
      if (drm_ioctl (DRM_IOCTL_MODE_GETENCODER, &enc) != 0 || enc.crtc_id == 0)
        continue;
      crtc.crtc_id = enc.crtc_id;
      if (drm_ioctl (DRM_IOCTL_MODE_GETCRTC, &crtc) != 0 || !crtc.mode_valid)
        continue;

      crtc_id = crtc.crtc_id;
      report ("crtc %u connector %u mode %ux%u", crtc_id, conn.connector_id,
              crtc.mode.hdisplay, crtc.mode.vdisplay);
      return 0;
    }

  report ("error: no connected connector with a lit CRTC");
  return -1;
}

/* A 64x64 dumb buffer holding the picture; its handle is what the legacy
 * cursor ioctls take. */
static int
make_picture (void)
{
  struct drm_mode_create_dumb create = {
    .width = TG_CURSOR_SIZE,
    .height = TG_CURSOR_SIZE,
    .bpp = 32,
  };
  struct drm_mode_map_dumb map = { 0 };
  uint8_t *pixels;

  if (drm_ioctl (DRM_IOCTL_MODE_CREATE_DUMB, &create) != 0)
    {
      report ("error: CREATE_DUMB: %s", strerror (errno));
      return -1;
    }
  map.handle = create.handle;
  if (drm_ioctl (DRM_IOCTL_MODE_MAP_DUMB, &map) != 0)
    {
      report ("error: MAP_DUMB: %s", strerror (errno));
      return -1;
    }
  pixels = mmap (NULL, create.size, PROT_READ | PROT_WRITE, MAP_SHARED, card, map.offset);
  if (pixels == MAP_FAILED)
    {
      report ("error: mmap of the dumb buffer: %s", strerror (errno));
      return -1;
    }

  for (unsigned y = 0; y < TG_CURSOR_SIZE; y++)
    for (unsigned x = 0; x < TG_CURSOR_SIZE; x++)
      {
        uint32_t px = tg_cursor_pixel (x, y);

        memcpy (pixels + y * create.pitch + x * 4, &px, 4);
      }
  munmap (pixels, create.size);

  cursor_handle = create.handle;
  report ("picture %ux%u pitch %u", create.width, create.height, create.pitch);
  return 0;
}

static void
cursor_set (uint32_t handle)
{
  struct drm_mode_cursor2 arg = {
    .flags = DRM_MODE_CURSOR_BO,
    .crtc_id = crtc_id,
    .width = handle != 0 ? TG_CURSOR_SIZE : 0,
    .height = handle != 0 ? TG_CURSOR_SIZE : 0,
    .handle = handle,
    .hot_x = TG_CURSOR_HOT_X,
    .hot_y = TG_CURSOR_HOT_Y,
  };

  if (drm_ioctl (DRM_IOCTL_MODE_CURSOR2, &arg) != 0)
    report ("error: CURSOR2 handle %u: %s", handle, strerror (errno));
  else if (handle != 0)
    report ("shown hot %d,%d", TG_CURSOR_HOT_X, TG_CURSOR_HOT_Y);
  else
    report ("hidden");
}

static void
cursor_move (int x,
             int y)
{
  struct drm_mode_cursor2 arg = {
    .flags = DRM_MODE_CURSOR_MOVE,
    .crtc_id = crtc_id,
    .x = x,
    .y = y,
  };

  if (drm_ioctl (DRM_IOCTL_MODE_CURSOR2, &arg) != 0)
    report ("error: CURSOR2 move: %s", strerror (errno));
  else
    report ("moved %d,%d", x, y);
}

int
main (int   argc,
      char *argv[])
{
  char line[128];
  FILE *commands;
  int fd;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s FIFO\n", argv[0]);
      return 2;
    }

  card = open (CARD, O_RDWR | O_CLOEXEC);
  if (card < 0)
    {
      report ("error: open %s: %s", CARD, strerror (errno));
      return 1;
    }
  if (find_crtc () != 0 || make_picture () != 0)
    return 1;

  if (mkfifo (argv[1], 0600) != 0 && errno != EEXIST)
    {
      report ("error: mkfifo %s: %s", argv[1], strerror (errno));
      return 1;
    }
  /* Open for writing too, so the FIFO never reads as ended between two
   * writers. */
  fd = open (argv[1], O_RDWR | O_CLOEXEC);
  if (fd < 0 || (commands = fdopen (fd, "r")) == NULL)
    {
      report ("error: open %s: %s", argv[1], strerror (errno));
      return 1;
    }

  cursor_set (cursor_handle);
  report ("ready");

  while (fgets (line, sizeof line, commands) != NULL)
    {
      int x, y;

      line[strcspn (line, "\n")] = '\0';
      if (strcmp (line, "show") == 0)
        cursor_set (cursor_handle);
      else if (strcmp (line, "hide") == 0)
        cursor_set (0);
      else if (sscanf (line, "move %d %d", &x, &y) == 2)
        cursor_move (x, y);
      else
        report ("error: unknown command '%s'", line);
    }

  report ("error: %s ended", argv[1]);
  return 1;
}
