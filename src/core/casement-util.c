/* casement-util.c
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

#define G_LOG_DOMAIN "casement-util"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "casement-util.h"

char *
casement_util_dup_vms_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "casement", "vms", NULL);
}

char *
casement_util_dup_runtime_dir (GError **error)
{
  g_autofree char *dir = NULL;
  struct stat st;

  /* g_get_user_runtime_dir() already falls back to the cache folder when
   * XDG_RUNTIME_DIR is unset (cron, su, CI); the 0700 rule holds either way. */
  dir = g_build_filename (g_get_user_runtime_dir (), "casement", NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot create runtime folder %s: %s", dir, g_strerror (errsv));
      return NULL;
    }

  if (g_lstat (dir, &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != getuid ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "Runtime folder %s is not a folder owned by this user", dir);
      return NULL;
    }

  if ((st.st_mode & 0077) != 0 && g_chmod (dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot make runtime folder %s private: %s", dir, g_strerror (errsv));
      return NULL;
    }

  return g_steal_pointer (&dir);
}

gsize
casement_util_max_socket_path (void)
{
  struct sockaddr_un addr;

  return sizeof addr.sun_path - 1;
}

GSocketAddress *
casement_util_unix_socket_address_new (const char  *path,
                                       GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  /* GIO would cut the path short and connect somewhere else. */
  if (strlen (path) > casement_util_max_socket_path ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                   _("The socket path “%s” is longer than the %u bytes a unix socket allows; "
                     "use a shorter runtime folder"),
                   path, (guint) casement_util_max_socket_path ());
      return NULL;
    }

  return g_unix_socket_address_new (path);
}

char *
casement_util_dup_vm_runtime_dir (const char  *slug,
                                  GError     **error)
{
  g_autofree char *base = NULL;
  g_autofree char *hash = NULL;

  g_return_val_if_fail (slug != NULL && *slug != '\0', NULL);

  if (!(base = casement_util_dup_runtime_dir (error)))
    return NULL;

  hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, slug, -1);
  hash[12] = '\0';

  return g_build_filename (base, hash, NULL);
}

gboolean
casement_util_parse_size (const char  *text,
                          guint64     *bytes,
                          GError     **error)
{
  static const struct {
    const char *suffix;
    guint shift;
  } units[] = {
    { "", 0 }, { "b", 0 },
    { "k", 10 }, { "kb", 10 }, { "kib", 10 },
    { "m", 20 }, { "mb", 20 }, { "mib", 20 },
    { "g", 30 }, { "gb", 30 }, { "gib", 30 },
    { "t", 40 }, { "tb", 40 }, { "tib", 40 },
  };
  g_autofree char *unit = NULL;
  const char *end = NULL;
  double value;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (bytes != NULL, FALSE);

  while (g_ascii_isspace (*text))
    text++;

  if (!g_ascii_isdigit (*text))
    goto invalid;

  value = g_ascii_strtod (text, (char **) &end);
  if (end == text || value < 0 || !isfinite (value))
    goto invalid;

  while (g_ascii_isspace (*end))
    end++;
  unit = g_ascii_strdown (end, -1);
  g_strchomp (unit);

  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    {
      if (g_str_equal (unit, units[i].suffix))
        {
          double result = value * (double) ((guint64) 1 << units[i].shift);

          if (result >= 18446744073709551615.0)
            goto invalid;
          if (units[i].shift == 0 && value != (double) (guint64) value)
            goto invalid;

          *bytes = (guint64) result;
          return TRUE;
        }
    }

invalid:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a size: write a number with a unit, such as 64G or 512M"),
               text);
  return FALSE;
}
