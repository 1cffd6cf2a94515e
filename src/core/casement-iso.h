/* casement-iso.h
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

#define CASEMENT_ISO_ERROR (casement_iso_error_quark ())

typedef enum
{
  CASEMENT_ISO_ERROR_NOT_ISO = 1,   /* no ISO 9660 primary volume descriptor at sector 16 */
  CASEMENT_ISO_ERROR_CORRUPT,       /* a structure is malformed or points outside the image */
  CASEMENT_ISO_ERROR_NOT_FOUND,     /* no such file or folder in the image */
  CASEMENT_ISO_ERROR_INVALID,       /* a name or value the writer cannot put into an image */
} CasementIsoError;

/* The directory tree lookups use: UDF when the image has one Casement can
 * read (Windows installation discs keep their files there and only a
 * README in ISO 9660), else Joliet (long, mixed-case names), else plain
 * ISO 9660. Rock Ridge is not read. */
typedef enum
{
  CASEMENT_ISO_FILE_SYSTEM_ISO9660 = 0,
  CASEMENT_ISO_FILE_SYSTEM_JOLIET,
  CASEMENT_ISO_FILE_SYSTEM_UDF,
} CasementIsoFileSystem;

#define CASEMENT_TYPE_ISO (casement_iso_get_type ())

G_DECLARE_FINAL_TYPE (CasementIso, casement_iso, CASEMENT, ISO, GObject)

GQuark                 casement_iso_error_quark        (void) G_GNUC_CONST;

/* Reading blocks on file I/O: call these from a worker thread in the GUI.
 * One CasementIso is for one thread at a time. Paths inside the image use
 * "/" (or "\"), need no leading slash and match case-insensitively, as
 * Windows matches them. */
CasementIso           *casement_iso_open               (GFile                  *file,
                                                        GCancellable           *cancellable,
                                                        GError                **error);
const char            *casement_iso_get_volume_id      (CasementIso            *self);
const char            *casement_iso_get_publisher_id   (CasementIso            *self);
CasementIsoFileSystem  casement_iso_get_file_system    (CasementIso            *self);
/* The names in the folder @path, in image order. */
char                 **casement_iso_list_dir           (CasementIso            *self,
                                                        const char             *path,
                                                        GCancellable           *cancellable,
                                                        GError                **error);
/* FALSE with CASEMENT_ISO_ERROR_NOT_FOUND when @path is not there. */
gboolean               casement_iso_query              (CasementIso            *self,
                                                        const char             *path,
                                                        gboolean               *is_dir,
                                                        guint64                *size,
                                                        GCancellable           *cancellable,
                                                        GError                **error);
/* Up to @length bytes of the file @path from @offset; fewer at its end. */
GBytes                *casement_iso_read               (CasementIso            *self,
                                                        const char             *path,
                                                        guint64                 offset,
                                                        gsize                   length,
                                                        GCancellable           *cancellable,
                                                        GError                **error);

/* A file to put at the root of a written image. */
typedef struct
{
  const char *name;
  GBytes     *contents;
} CasementIsoEntry;

/* An image holding @entries at its root, in both an ISO 9660 (upper-cased,
 * level 2 names) and a Joliet tree (the names as given), written to @dest
 * with mode 0600 through a temporary file, so a reader never sees half of
 * it. Names are plain ASCII, up to 30 letters, digits, '.', '_' and '-',
 * distinct in both trees; at most 16 files. Blocking. */
gboolean               casement_iso_write_files        (GFile                  *dest,
                                                        const char             *volume_id,
                                                        const CasementIsoEntry *entries,
                                                        guint                   n_entries,
                                                        GCancellable           *cancellable,
                                                        GError                **error);
/* casement_iso_write_files() with one file. */
gboolean               casement_iso_write_single_file  (GFile                  *dest,
                                                        const char             *volume_id,
                                                        const char             *file_name,
                                                        GBytes                 *contents,
                                                        GCancellable           *cancellable,
                                                        GError                **error);

G_END_DECLS
