/* casement-test-media.h
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

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Small synthetic discs for tests (DESIGN §10), made by the real xorriso
 * at test time. All calls are synchronous: they are for test programs. */

/* The label and publisher of Microsoft's Windows 11 consumer discs, which
 * libosinfo identifies as "Microsoft Windows 11 (x86_64)". */
#define CASEMENT_TEST_MEDIA_WIN11_VOLUME_ID "CCCOMA_X64FRE_EN-US_DV9"
#define CASEMENT_TEST_MEDIA_MS_PUBLISHER    "MICROSOFT CORPORATION"

/* NULL when xorriso is installed, else a sentence for g_test_skip(). */
char     *casement_test_media_dup_missing_tool   (void);

/* An ISO in @dir called @file_name, labelled @volume_id (and @publisher,
 * when given), holding a README and, when @bootable, a 2 KiB El Torito
 * boot image at boot/etfsboot.com as Windows discs have. */
char     *casement_test_media_make_labelled_iso  (const char  *dir,
                                                  const char  *file_name,
                                                  const char  *volume_id,
                                                  const char  *publisher,
                                                  gboolean     bootable,
                                                  GError     **error);

/* One edition in a Windows disc's sources/install.wim. */
typedef struct
{
  const char *name;        /* "Windows 11 Pro" */
  const char *edition_id;  /* "Professional" */
} CasementTestWimImage;

/* NULL when genisoimage and wimlib-imagex are installed, else a sentence
 * for g_test_skip(). */
char     *casement_test_media_dup_missing_wim_tool (void);

/* A disc laid out as Microsoft's, in @dir as windows.iso: files in UDF
 * (genisoimage, the one that writes UDF), an ISO 9660 bridge with little
 * more than a README, El Torito boot, and a real x86-64 install.wim
 * (wimlib-imagex) listing @images for Windows build @build in en-US. */
char     *casement_test_media_make_windows_iso   (const char                 *dir,
                                                  const char                 *volume_id,
                                                  guint                       build,
                                                  const CasementTestWimImage *images,
                                                  guint                       n_images,
                                                  GError                    **error);

/* A virtio-win disc in @dir with the folder layout listed in
 * tests/data/media/virtio-win-layout.txt (found through G_TEST_DIST),
 * less the files whose path starts with @skip_prefix (e.g. "viostor/w11"),
 * labelled "virtio-win-0.1.262" like the real one. */
char     *casement_test_media_make_virtio_iso    (const char  *dir,
                                                  const char  *skip_prefix,
                                                  GError     **error);

G_END_DECLS
