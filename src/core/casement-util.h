/* casement-util.h
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

/* $XDG_DATA_HOME/casement/vms: where VM folders live. */
char     *casement_util_dup_vms_dir        (void);

/* $XDG_RUNTIME_DIR/casement (falling back as GLib does when unset), created
 * with mode 0700 and checked to be ours and private. */
char     *casement_util_dup_runtime_dir    (GError     **error);

/* The runtime folder of the VM @slug: a short name (a hash of the slug) under
 * casement_util_dup_runtime_dir(), so socket paths fit sun_path whatever the
 * VM is called. Not created here. */
char     *casement_util_dup_vm_runtime_dir (const char  *slug,
                                            GError     **error);

/* Parses a size as a person writes it: "64G", "64 GiB", "500M", "1T",
 * "4096" (bytes); decimal points allowed ("1.5G"). Units are binary. */
gboolean  casement_util_parse_size         (const char  *text,
                                            guint64     *bytes,
                                            GError     **error);

/* Largest path a unix socket address can hold (sun_path, less the NUL). */
gsize     casement_util_max_socket_path    (void);

/* The address of the unix socket at @path, or NULL with
 * G_IO_ERROR_FILENAME_TOO_LONG when the path does not fit one. */
GSocketAddress *casement_util_unix_socket_address_new (const char  *path,
                                                       GError     **error);

G_END_DECLS
