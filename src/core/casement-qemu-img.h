/* casement-qemu-img.h
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

#define CASEMENT_QEMU_IMG_ERROR (casement_qemu_img_error_quark ())

typedef enum
{
  CASEMENT_QEMU_IMG_ERROR_FAILED = 1,  /* qemu-img exited non-zero; message carries its stderr */
  CASEMENT_QEMU_IMG_ERROR_EXISTS,      /* refusing to overwrite an existing file */
  CASEMENT_QEMU_IMG_ERROR_SHRINK,      /* refusing to make a disk smaller */
  CASEMENT_QEMU_IMG_ERROR_NOT_FOUND,   /* no qemu-img binary */
} CasementQemuImgError;

typedef struct
{
  char    *format;         /* "qcow2", "raw", … */
  guint64  virtual_size;   /* bytes the guest sees */
  guint64  actual_size;    /* bytes used on the host */
  guint    cluster_size;   /* 0 when the format has none */
  gboolean lazy_refcounts;
} CasementQemuImgInfo;

GQuark    casement_qemu_img_error_quark    (void) G_GNUC_CONST;

void      casement_qemu_img_info_clear     (CasementQemuImgInfo  *info);

/* A new qcow2 image of @size_bytes at @image; never overwrites. */
void      casement_qemu_img_create_async   (GFile                *image,
                                            guint64               size_bytes,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
gboolean  casement_qemu_img_create_finish  (GAsyncResult         *result,
                                            GError              **error);

/* Copies @source (of @source_format, e.g. "raw") into a new qcow2 @dest. */
void      casement_qemu_img_convert_async  (GFile                *source,
                                            const char           *source_format,
                                            GFile                *dest,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
gboolean  casement_qemu_img_convert_finish (GAsyncResult         *result,
                                            GError              **error);

void      casement_qemu_img_info_async     (GFile                *image,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
gboolean  casement_qemu_img_info_finish    (GAsyncResult         *result,
                                            CasementQemuImgInfo  *info,
                                            GError              **error);

/* Grows @image to @new_size_bytes; refuses to shrink. */
void      casement_qemu_img_resize_async   (GFile                *image,
                                            guint64               new_size_bytes,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
gboolean  casement_qemu_img_resize_finish  (GAsyncResult         *result,
                                            GError              **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CasementQemuImgInfo, casement_qemu_img_info_clear)

G_END_DECLS
