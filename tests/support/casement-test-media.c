/* casement-test-media.c
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

#define G_LOG_DOMAIN "casement-test-media"

#include "config.h"

#include <errno.h>

#include <glib/gstdio.h>

#include "casement-test-media.h"

#define BOOT_IMAGE_SIZE 2048

static gboolean
write_file (const char  *path,
            const char  *contents,
            gssize       length,
            GError     **error)
{
  g_autofree char *parent = g_path_get_dirname (path);

  if (g_mkdir_with_parents (parent, 0755) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot create %s: %s", parent, g_strerror (errsv));
      return FALSE;
    }

  return g_file_set_contents (path, contents, length, error);
}

static gboolean
run (const char * const  *argv,
     GError             **error)
{
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, error))
    return FALSE;

  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%s failed: %s", argv[0], err);
      return FALSE;
    }

  return TRUE;
}

static gboolean
run_xorriso (GPtrArray  *argv,
             GError    **error)
{
  g_ptr_array_add (argv, NULL);

  return run ((const char * const *) argv->pdata, error);
}

static char *
dup_missing (const char * const *tools)
{
  for (guint i = 0; tools[i] != NULL; i++)
    {
      g_autofree char *path = g_find_program_in_path (tools[i]);

      if (path == NULL)
        return g_strdup_printf ("%s is not installed (build-aux/common.sh test_packages)", tools[i]);
    }

  return NULL;
}

char *
casement_test_media_dup_missing_tool (void)
{
  static const char * const tools[] = { "xorriso", NULL };

  return dup_missing (tools);
}

char *
casement_test_media_dup_missing_wim_tool (void)
{
  static const char * const tools[] = { "genisoimage", "wimlib-imagex", NULL };

  return dup_missing (tools);
}

char *
casement_test_media_make_labelled_iso (const char  *dir,
                                       const char  *file_name,
                                       const char  *volume_id,
                                       const char  *publisher,
                                       gboolean     bootable,
                                       GError     **error)
{
  g_autofree char *tree = g_build_filename (dir, "tree", NULL);
  g_autofree char *boot = g_build_filename (tree, "boot", "etfsboot.com", NULL);
  g_autofree char *readme = g_build_filename (tree, "README.TXT", NULL);
  g_autofree char *iso = g_build_filename (dir, file_name, NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  char boot_image[BOOT_IMAGE_SIZE] = { 0, };

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (file_name != NULL, NULL);
  g_return_val_if_fail (volume_id != NULL, NULL);

  if (!write_file (boot, boot_image, sizeof boot_image, error) ||
      !write_file (readme, "This disc contains a UDF file system.\n", -1, error))
    return NULL;

  g_ptr_array_add (argv, (char *) "xorriso");
  g_ptr_array_add (argv, (char *) "-as");
  g_ptr_array_add (argv, (char *) "mkisofs");
  g_ptr_array_add (argv, (char *) "-quiet");
  g_ptr_array_add (argv, (char *) "-V");
  g_ptr_array_add (argv, (char *) volume_id);
  if (publisher != NULL)
    {
      g_ptr_array_add (argv, (char *) "-publisher");
      g_ptr_array_add (argv, (char *) publisher);
    }
  if (bootable)
    {
      g_ptr_array_add (argv, (char *) "-b");
      g_ptr_array_add (argv, (char *) "boot/etfsboot.com");
      g_ptr_array_add (argv, (char *) "-no-emul-boot");
    }
  g_ptr_array_add (argv, (char *) "-o");
  g_ptr_array_add (argv, iso);
  g_ptr_array_add (argv, tree);

  if (!run_xorriso (argv, error))
    return NULL;

  return g_steal_pointer (&iso);
}

char *
casement_test_media_make_windows_iso (const char                 *dir,
                                      const char                 *volume_id,
                                      guint                       build,
                                      const CasementTestWimImage *images,
                                      guint                       n_images,
                                      GError                    **error)
{
  g_autofree char *tree = g_build_filename (dir, "windows-tree", NULL);
  g_autofree char *content = g_build_filename (dir, "wim-content", NULL);
  g_autofree char *notepad = g_build_filename (content, "Windows", "notepad.exe", NULL);
  g_autofree char *boot = g_build_filename (tree, "boot", "etfsboot.com", NULL);
  g_autofree char *efi = g_build_filename (tree, "efi", "microsoft", "boot", "efisys.bin", NULL);
  g_autofree char *setup = g_build_filename (tree, "setup.exe", NULL);
  g_autofree char *readme = g_build_filename (tree, "README.TXT", NULL);
  g_autofree char *sources = g_build_filename (tree, "sources", NULL);
  g_autofree char *wim = g_build_filename (sources, "install.wim", NULL);
  g_autofree char *build_prop = g_strdup_printf ("WINDOWS/VERSION/BUILD=%u", build);
  g_autofree char *iso = g_build_filename (dir, "windows.iso", NULL);
  char boot_image[BOOT_IMAGE_SIZE] = { 0, };
  const char *mkisofs[] = {
    "genisoimage", "-quiet", "-udf", "-iso-level", "3", "-V", volume_id,
    "-publisher", CASEMENT_TEST_MEDIA_MS_PUBLISHER, "-b", "boot/etfsboot.com", "-no-emul-boot",
    "-hide", "boot", "-hide", "boot.catalog", "-hide", "sources", "-hide", "efi", "-hide", "setup.exe",
    "-o", iso, tree, NULL
  };

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (images != NULL && n_images > 0, NULL);

  if (g_mkdir_with_parents (sources, 0755) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot create %s: %s", sources, g_strerror (errsv));
      return NULL;
    }

  if (!write_file (notepad, "MZ", -1, error) ||
      !write_file (boot, boot_image, sizeof boot_image, error) ||
      !write_file (efi, boot_image, sizeof boot_image, error) ||
      !write_file (setup, "MZ", -1, error) ||
      !write_file (readme, "This disc contains a \"UDF\" file system and requires an operating system\r\n"
                           "that supports the ISO-13346 \"UDF\" file system specification.\r\n", -1, error))
    return NULL;

  for (guint i = 0; i < n_images; i++)
    {
      g_autofree char *index = g_strdup_printf ("%u", i + 1);
      g_autofree char *edition_prop = g_strdup_printf ("WINDOWS/EDITIONID=%s", images[i].edition_id);
      const char *add[] = {
        "wimlib-imagex", i == 0 ? "capture" : "append", content, wim, images[i].name, NULL
      };
      /* Setup's image list: build, x86-64 (9), edition, client, language. */
      const char *info[] = {
        "wimlib-imagex", "info", wim, index,
        "--image-property", build_prop, "--image-property", "WINDOWS/ARCH=9",
        "--image-property", "WINDOWS/VERSION/MAJOR=10",
        "--image-property", edition_prop,
        "--image-property", "WINDOWS/INSTALLATIONTYPE=Client",
        "--image-property", "WINDOWS/LANGUAGES/LANGUAGE=en-US",
        "--image-property", "WINDOWS/LANGUAGES/DEFAULT=en-US", NULL
      };

      if (!run (add, error) || !run (info, error))
        return NULL;
    }

  if (!run (mkisofs, error))
    return NULL;

  return g_steal_pointer (&iso);
}

char *
casement_test_media_make_virtio_iso (const char  *dir,
                                     const char  *skip_prefix,
                                     GError     **error)
{
  g_autofree char *layout_path = g_test_build_filename (G_TEST_DIST, "data", "media",
                                                        "virtio-win-layout.txt", NULL);
  g_autofree char *tree = g_build_filename (dir, "virtio-tree", NULL);
  g_autofree char *iso = g_build_filename (dir, "virtio-win.iso", NULL);
  g_autofree char *layout = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (dir != NULL, NULL);

  if (!g_file_get_contents (layout_path, &layout, NULL, error))
    return NULL;

  lines = g_strsplit (layout, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *path = NULL;
      g_autofree char *contents = NULL;

      if (lines[i][0] == '\0' || lines[i][0] == '#' ||
          (skip_prefix != NULL && g_str_has_prefix (lines[i], skip_prefix)))
        continue;

      path = g_build_filename (tree, lines[i], NULL);
      contents = g_strconcat (lines[i], "\n", NULL);
      if (!write_file (path, contents, -1, error))
        return NULL;
    }

  /* Rock Ridge and Joliet keep the long, mixed-case names of the real disc. */
  g_ptr_array_add (argv, (char *) "xorriso");
  g_ptr_array_add (argv, (char *) "-as");
  g_ptr_array_add (argv, (char *) "mkisofs");
  g_ptr_array_add (argv, (char *) "-quiet");
  g_ptr_array_add (argv, (char *) "-r");
  g_ptr_array_add (argv, (char *) "-J");
  g_ptr_array_add (argv, (char *) "-V");
  g_ptr_array_add (argv, (char *) "virtio-win-0.1.262");
  g_ptr_array_add (argv, (char *) "-o");
  g_ptr_array_add (argv, iso);
  g_ptr_array_add (argv, tree);

  if (!run_xorriso (argv, error))
    return NULL;

  return g_steal_pointer (&iso);
}
