/* test-media.c
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

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "casement-iso.h"
#include "casement-media.h"

/* Every disc here is made by real tools at test time: xorriso (what
 * DESIGN §10 names), genisoimage (the mkisofs virtio-win is built with,
 * and the only one of the two that writes UDF, as Windows discs have),
 * wimlib-imagex (a real install.wim with the image list Setup reads). */

static char *tmp_root;

static gboolean
need_tools (const char *first,
            ...)
{
  va_list args;

  va_start (args, first);
  for (const char *tool = first; tool != NULL; tool = va_arg (args, const char *))
    {
      g_autofree char *path = g_find_program_in_path (tool);

      if (path == NULL)
        {
          g_autofree char *message = g_strdup_printf ("%s is not installed (build-aux/common.sh test_packages)", tool);

          g_test_skip (message);
          va_end (args);
          return FALSE;
        }
    }
  va_end (args);

  return TRUE;
}

static void
run (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);
}

static char *
test_dir (const char *name)
{
  char *dir = g_build_filename (tmp_root, name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  return dir;
}

static void
write_file (const char *path,
            const char *contents,
            gssize      length)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
}

/* The virtio-win layout from tests/data/media, minus lines starting with
 * @skip, plus @extra; each file holds its own path. */
static char *
make_virtio_tree (const char *name,
                  const char *skip,
                  const char *extra)
{
  g_autofree char *layout_path = g_test_build_filename (G_TEST_DIST, "data", "media", "virtio-win-layout.txt", NULL);
  g_autofree char *layout = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  char *tree = g_build_filename (tmp_root, name, "tree", NULL);

  g_file_get_contents (layout_path, &layout, NULL, &error);
  g_assert_no_error (error);

  lines = g_strsplit (layout, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *path = NULL;
      g_autofree char *contents = NULL;

      if (lines[i][0] == '\0' || lines[i][0] == '#' || (skip != NULL && g_str_has_prefix (lines[i], skip)))
        continue;

      path = g_build_filename (tree, lines[i], NULL);
      contents = g_strconcat (lines[i], "\n", NULL);
      write_file (path, contents, -1);
    }

  if (extra != NULL)
    {
      g_autofree char *path = g_build_filename (tree, extra, NULL);
      write_file (path, extra, -1);
    }

  return tree;
}

/* Made as virtio-win.spec makes the real one: mkisofs -r -iso-level 4, no Joliet. */
static char *
make_virtio_iso (const char *name,
                 const char *skip,
                 const char *extra)
{
  g_autofree char *dir = test_dir (name);
  g_autofree char *tree = make_virtio_tree (name, skip, extra);
  char *iso = g_build_filename (dir, "virtio-win.iso", NULL);
  const char *argv[] = {
    "genisoimage", "-quiet", "-o", iso, "-r", "-iso-level", "4", "-input-charset", "iso8859-1",
    "-V", "virtio-win-0.1.262", tree, NULL
  };

  run (argv);
  return iso;
}

/* A small disc with a Windows-like label, as DESIGN §10 describes. */
static char *
make_labelled_iso (const char *name,
                   const char *file_name,
                   const char *volume_id,
                   const char *publisher,
                   gboolean    bootable)
{
  g_autofree char *dir = test_dir (name);
  g_autofree char *tree = g_build_filename (dir, "tree", NULL);
  g_autofree char *boot = g_build_filename (tree, "boot", "etfsboot.com", NULL);
  g_autofree char *readme = g_build_filename (tree, "README.TXT", NULL);
  char *iso = g_build_filename (dir, file_name, NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  char boot_image[2048] = { 0, };

  write_file (boot, boot_image, sizeof boot_image);
  write_file (readme, "This disc contains a UDF file system.\n", -1);

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
  g_ptr_array_add (argv, NULL);

  run ((const char * const *) argv->pdata);
  return iso;
}

typedef struct
{
  const char *name;
  const char *edition_id;
} WimImage;

/* A real WIM (wimlib) whose image list says @build and @arch. */
static char *
make_wim (const char     *dir,
          const char     *file_name,
          guint           build,
          const char     *arch,
          const char     *language,
          const WimImage *images,
          guint           n_images)
{
  g_autofree char *content = g_build_filename (dir, "wim-content", NULL);
  g_autofree char *content_file = g_build_filename (content, "Windows", "notepad.exe", NULL);
  g_autofree char *build_prop = g_strdup_printf ("WINDOWS/VERSION/BUILD=%u", build);
  g_autofree char *arch_prop = g_strdup_printf ("WINDOWS/ARCH=%s", arch);
  g_autofree char *lang_prop = g_strdup_printf ("WINDOWS/LANGUAGES/LANGUAGE=%s", language);
  g_autofree char *default_prop = g_strdup_printf ("WINDOWS/LANGUAGES/DEFAULT=%s", language);
  char *wim = g_build_filename (dir, file_name, NULL);
  g_autofree char *plain = g_strconcat (wim, ".wim", NULL);
  gboolean esd = g_str_has_suffix (file_name, ".esd");

  write_file (content_file, "MZ", -1);

  for (guint i = 0; i < n_images; i++)
    {
      g_autofree char *index = g_strdup_printf ("%u", i + 1);
      g_autofree char *edition_prop = g_strdup_printf ("WINDOWS/EDITIONID=%s", images[i].edition_id);
      const char *add[] = { "wimlib-imagex", i == 0 ? "capture" : "append", content, esd ? plain : wim,
                            images[i].name, NULL };
      const char *info[] = { "wimlib-imagex", "info", esd ? plain : wim, index,
                             "--image-property", build_prop, "--image-property", arch_prop,
                             "--image-property", "WINDOWS/VERSION/MAJOR=10",
                             "--image-property", edition_prop,
                             "--image-property", "WINDOWS/INSTALLATIONTYPE=Client",
                             "--image-property", lang_prop, "--image-property", default_prop, NULL };

      run (add);
      run (info);
    }

  if (esd)
    {
      /* install.esd: the same list, data in one solid LZMS block. */
      const char *export[] = { "wimlib-imagex", "export", plain, "all", wim, "--solid", NULL };

      run (export);
      g_assert_cmpint (g_unlink (plain), ==, 0);
    }

  return wim;
}

/* A disc laid out as Microsoft's: files in UDF, and an ISO 9660 bridge
 * showing little more than a README, bootable through El Torito. */
static char *
make_windows_udf_iso (const char     *name,
                      const char     *volume_id,
                      const char     *wim_name,
                      guint           build,
                      const char     *arch,
                      const WimImage *images,
                      guint           n_images)
{
  g_autofree char *dir = test_dir (name);
  g_autofree char *tree = g_build_filename (dir, "tree", NULL);
  g_autofree char *sources = g_build_filename (tree, "sources", NULL);
  g_autofree char *boot = g_build_filename (tree, "boot", "etfsboot.com", NULL);
  g_autofree char *efi = g_build_filename (tree, "efi", "microsoft", "boot", "efisys.bin", NULL);
  g_autofree char *setup = g_build_filename (tree, "setup.exe", NULL);
  g_autofree char *readme = g_build_filename (tree, "README.TXT", NULL);
  g_autofree char *wim = NULL;
  char *iso = g_build_filename (dir, "windows.iso", NULL);
  char boot_image[2048] = { 0, };
  const char *argv[] = {
    "genisoimage", "-quiet", "-udf", "-iso-level", "3", "-V", volume_id,
    "-publisher", "MICROSOFT CORPORATION", "-b", "boot/etfsboot.com", "-no-emul-boot",
    "-hide", "boot", "-hide", "boot.catalog", "-hide", "sources", "-hide", "efi", "-hide", "setup.exe",
    "-o", iso, tree, NULL
  };

  write_file (boot, boot_image, sizeof boot_image);
  write_file (efi, boot_image, sizeof boot_image);
  write_file (setup, "MZ", -1);
  write_file (readme, "This disc contains a \"UDF\" file system and requires an operating system\r\n"
                      "that supports the ISO-13346 \"UDF\" file system specification.\r\n", -1);
  g_assert_cmpint (g_mkdir_with_parents (sources, 0755), ==, 0);
  wim = make_wim (sources, wim_name, build, arch, "de-DE", images, n_images);

  run (argv);
  return iso;
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = NULL;

  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      const char *name;

      g_chmod (path, 0700);
      if ((dir = g_dir_open (path, 0, NULL)))
        while ((name = g_dir_read_name (dir)))
          {
            g_autofree char *child = g_build_filename (path, name, NULL);
            rm_rf (child);
          }
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}

static CasementInstallMedia *
detect (const char  *path,
        GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);

  return casement_media_detect_install (file, NULL, error);
}

static CasementDriverMedia *
check_drivers (const char  *path,
               const char  *os_id,
               GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);

  return casement_media_check_drivers (file, os_id, NULL, error);
}

static gboolean
strv_equal (char       **strv,
            const char  *joined)
{
  g_autofree char *text = g_strjoinv (",", strv);

  if (!g_str_equal (text, joined))
    g_printerr ("got “%s”, expected “%s”\n", text, joined);
  return g_str_equal (text, joined);
}

/* ---- Windows discs ----------------------------------------------------- */

static void
test_media_win11_label (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso = NULL;

  if (!need_tools ("xorriso", NULL))
    return;

  iso = make_labelled_iso ("win11-label", "Win11_23H2_EnglishInternational_x64.iso",
                           "CCCOMA_X64FRE_EN-US_DV9", "MICROSOFT CORPORATION", TRUE);
  media = detect (iso, &error);
  g_assert_no_error (error);

  g_assert_true (media->is_windows);
  g_assert_cmpstr (media->os_id, ==, "win11");
  g_assert_cmpstr (media->name, ==, "Microsoft Windows 11");
  g_assert_cmpstr (media->version, ==, "11.0");
  g_assert_cmpstr (media->architecture, ==, "x86_64");
  g_assert_cmpstr (media->volume_id, ==, "CCCOMA_X64FRE_EN-US_DV9");
  g_assert_cmpstr (media->language, ==, "en-US");
  g_assert_cmpstr (media->path, ==, iso);
  g_assert_null (media->edition);
  g_assert_cmpuint (media->images->len, ==, 0);
  g_assert_null (casement_install_media_get_default_image (media));

  /* osinfo-db's win11 entry */
  g_assert_cmpuint (media->min_cpus, ==, 2);
  g_assert_cmpuint (media->min_ram, ==, G_GUINT64_CONSTANT (4) << 30);
  g_assert_cmpuint (media->min_storage, ==, G_GUINT64_CONSTANT (64) << 30);
  g_assert_cmpuint (media->recommended_ram, >=, media->min_ram);
  g_assert_cmpuint (media->recommended_storage, >=, media->min_storage);
  g_assert_cmpuint (media->recommended_cpus, >=, media->min_cpus);

  /* Windows 10 consumer discs carry this very label: with no readable
   * image list the choice is a guess, and the user is told. */
  g_assert_nonnull (media->warning);
  g_assert_nonnull (strstr (media->warning, "win10"));
  g_assert_nonnull (strstr (media->warning, "win11"));
}

static void
test_media_win10_label (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso = NULL;

  if (!need_tools ("xorriso", NULL))
    return;

  /* Windows 10 Enterprise's label, which only win10 claims in osinfo-db. */
  iso = make_labelled_iso ("win10-label", "win10.iso", "CENNA_X64FREV_EN-US_DV5",
                           "MICROSOFT CORPORATION", TRUE);
  media = detect (iso, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (media->os_id, ==, "win10");
  g_assert_cmpstr (media->name, ==, "Microsoft Windows 10");
  g_assert_cmpstr (media->version, ==, "10.0");
  g_assert_cmpstr (media->edition, ==, "enterprise");
  g_assert_cmpuint (media->min_ram, ==, G_GUINT64_CONSTANT (2) << 30);
  g_assert_cmpuint (media->min_storage, ==, G_GUINT64_CONSTANT (20) << 30);
  g_assert_null (media->warning);
}

static const WimImage consumer_images[] = {
  { "Windows Home", "Core" },
  { "Windows Home N", "CoreN" },
  { "Windows Pro", "Professional" },
  { "Windows Education", "Education" },
};

static void
test_media_wim_decides (gconstpointer data)
{
  gboolean esd = GPOINTER_TO_INT (data);
  g_autoptr(CasementInstallMedia) win10 = NULL;
  g_autoptr(CasementInstallMedia) win11 = NULL;
  g_autoptr(CasementInstallMedia) copy = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso10 = NULL;
  g_autofree char *iso11 = NULL;
  const CasementWindowsImage *image;
  const char *wim_name = esd ? "install.esd" : "install.wim";

  if (!need_tools ("genisoimage", "wimlib-imagex", NULL))
    return;

  /* The same label on both, as Microsoft's consumer discs have: only the
   * image list tells Windows 10 (build 19045) from 11 (22631). */
  iso10 = make_windows_udf_iso (esd ? "udf-win10-esd" : "udf-win10", "CCCOMA_X64FRE_DE-DE_DV9",
                                wim_name, 19045, "9", consumer_images, G_N_ELEMENTS (consumer_images));
  iso11 = make_windows_udf_iso (esd ? "udf-win11-esd" : "udf-win11", "CCCOMA_X64FRE_DE-DE_DV9",
                                wim_name, 22631, "9", consumer_images, G_N_ELEMENTS (consumer_images));

  win10 = detect (iso10, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (win10->os_id, ==, "win10");
  g_assert_cmpstr (win10->name, ==, "Microsoft Windows 10");
  g_assert_cmpuint (win10->min_ram, ==, G_GUINT64_CONSTANT (2) << 30);
  g_assert_null (win10->warning);
  g_assert_cmpstr (win10->language, ==, "de-DE");

  win11 = detect (iso11, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (win11->os_id, ==, "win11");
  g_assert_cmpstr (win11->name, ==, "Microsoft Windows 11");
  g_assert_null (win11->warning);

  g_assert_cmpuint (win11->images->len, ==, G_N_ELEMENTS (consumer_images));
  for (guint i = 0; i < G_N_ELEMENTS (consumer_images); i++)
    {
      image = g_ptr_array_index (win11->images, i);
      g_assert_cmpuint (image->index, ==, i + 1);
      g_assert_cmpstr (image->name, ==, consumer_images[i].name);
      g_assert_cmpstr (image->edition_id, ==, consumer_images[i].edition_id);
      g_assert_cmpstr (image->architecture, ==, "x86_64");
      g_assert_cmpstr (image->language, ==, "de-DE");
      g_assert_cmpuint (image->build, ==, 22631);
      g_assert_false (image->is_server);
    }

  image = casement_install_media_get_default_image (win11);
  g_assert_cmpuint (image->index, ==, 3);
  g_assert_cmpstr (image->edition_id, ==, "Professional");

  copy = casement_install_media_copy (win11);
  g_assert_cmpstr (copy->os_id, ==, "win11");
  g_assert_cmpuint (copy->images->len, ==, win11->images->len);
  g_assert_true (g_ptr_array_index (copy->images, 0) != g_ptr_array_index (win11->images, 0));
  g_assert_cmpstr (((CasementWindowsImage *) g_ptr_array_index (copy->images, 2))->name, ==, "Windows Pro");
}

static void
test_media_unknown_windows (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso = NULL;

  if (!need_tools ("xorriso", NULL))
    return;

  /* A label osinfo-db 20221130 does not know, from Microsoft. */
  iso = make_labelled_iso ("unknown-windows", "new.iso", "ZZSA_X64FREV_EN-US_DV1",
                           "MICROSOFT CORPORATION", TRUE);
  media = detect (iso, &error);
  g_assert_no_error (error);

  g_assert_true (media->is_windows);
  g_assert_cmpstr (media->os_id, ==, "win11");
  g_assert_cmpstr (media->architecture, ==, "x86_64");
  g_assert_nonnull (media->warning);
  g_assert_nonnull (strstr (media->warning, "ZZSA_X64FREV_EN-US_DV1"));
  /* Sized like the newest Windows we know. */
  g_assert_cmpuint (media->min_ram, ==, G_GUINT64_CONSTANT (4) << 30);
}

static void
test_media_not_x86_64 (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *x86 = NULL;
  g_autofree char *arm = NULL;
  g_autofree char *arm_wim = NULL;
  static const WimImage arm_images[] = { { "Windows 11 Pro", "Professional" } };

  if (!need_tools ("xorriso", "genisoimage", "wimlib-imagex", NULL))
    return;

  /* 32-bit Windows 10, known to osinfo-db as such */
  x86 = make_labelled_iso ("win10-x86", "win10-x86.iso", "CCSA_X86FRE_EN-US_DV5", "MICROSOFT CORPORATION", TRUE);
  media = detect (x86, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_X86_64);
  g_assert_null (media);
  g_assert_nonnull (strstr (error->message, "32-bit x86"));
  g_clear_error (&error);

  /* Windows on ARM: unknown to osinfo-db, its label says A64 */
  arm = make_labelled_iso ("win11-arm", "win11-arm.iso", "CPBA_A64FRE_EN-US_DV9", "MICROSOFT CORPORATION", TRUE);
  media = detect (arm, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_X86_64);
  g_assert_nonnull (strstr (error->message, "ARM"));
  g_clear_error (&error);

  /* ... and where the label says x64 but the image list says ARM64 (12) */
  arm_wim = make_windows_udf_iso ("win11-arm-wim", "CCCOMA_X64FRE_EN-US_DV9", "install.wim", 22631, "12",
                                  arm_images, G_N_ELEMENTS (arm_images));
  media = detect (arm_wim, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_X86_64);
}

static void
test_media_unsupported_windows (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso = NULL;

  if (!need_tools ("xorriso", NULL))
    return;

  /* Windows 8.1: known, 64-bit, and without virtio-win drivers today */
  iso = make_labelled_iso ("win81", "win81.iso", "IR5_CCSA_X64FREE_EN-US_DV5", "MICROSOFT CORPORATION", TRUE);
  media = detect (iso, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNSUPPORTED);
  g_assert_null (media);
  g_assert_nonnull (strstr (error->message, "Windows 8.1"));
}

static void
test_media_not_bootable (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso = NULL;

  if (!need_tools ("xorriso", NULL))
    return;

  iso = make_labelled_iso ("not-bootable", "rebuilt.iso", "CCCOMA_X64FRE_EN-US_DV9", "MICROSOFT CORPORATION", FALSE);
  media = detect (iso, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_BOOTABLE);
  g_assert_null (media);
  g_assert_nonnull (strstr (error->message, "rebuilt.iso"));
}

static void
test_media_linux (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *debian = NULL;
  g_autofree char *other = NULL;

  if (!need_tools ("xorriso", NULL))
    return;

  /* A Debian netinst label: osinfo-db knows it, and it is not Windows. */
  debian = make_labelled_iso ("debian", "debian-11.5.0-amd64-netinst.iso", "Debian 11.5.0 amd64 n", NULL, TRUE);
  media = detect (debian, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_WINDOWS);
  g_assert_nonnull (strstr (error->message, "Debian 11"));
  g_assert_nonnull (strstr (error->message, "debian-11.5.0-amd64-netinst.iso"));
  g_clear_error (&error);

  /* Nobody knows this one, and nothing about it says Microsoft. */
  other = make_labelled_iso ("other", "photos.iso", "HOLIDAY_2025", "ME", FALSE);
  media = detect (other, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_WINDOWS);
  g_assert_nonnull (strstr (error->message, "HOLIDAY_2025"));
}

static void
test_media_not_iso (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = test_dir ("not-iso");
  g_autofree char *text = g_build_filename (dir, "notes.iso", NULL);
  g_autofree char *big = g_build_filename (dir, "random.iso", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.iso", NULL);
  g_autofree guint8 *noise = g_malloc (1024 * 1024);

  write_file (text, "not a disc\n", -1);
  for (guint i = 0; i < 1024 * 1024; i++)
    noise[i] = g_test_rand_int_range (0, 256);
  write_file (big, (const char *) noise, 1024 * 1024);
  write_file (empty, "", 0);

  media = detect (text, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_ISO);
  g_assert_nonnull (strstr (error->message, "notes.iso"));
  g_clear_error (&error);

  media = detect (big, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_ISO);
  g_clear_error (&error);

  media = detect (empty, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_ISO);
}

static void
test_media_unreadable (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(CasementDriverMedia) drivers = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = test_dir ("unreadable");
  g_autofree char *missing = g_build_filename (dir, "gone.iso", NULL);

  media = detect (missing, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNREADABLE);
  g_assert_nonnull (strstr (error->message, "gone.iso"));
  g_clear_error (&error);

  /* A folder where a file belongs */
  media = detect (dir, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNREADABLE);
  g_clear_error (&error);

  drivers = check_drivers (missing, "win11", &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNREADABLE);
  g_assert_null (drivers);
  g_assert_nonnull (strstr (error->message, "stable-virtio"));
}

static void
test_media_unreadable_permission (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso = NULL;

  /* root reads a file whatever its mode says */
  if (geteuid () == 0)
    {
      g_test_skip ("running as root, which may read a file of mode 000");
      return;
    }

  if (!need_tools ("xorriso", NULL))
    return;

  iso = make_labelled_iso ("mode-000", "locked.iso", "CCCOMA_X64FRE_EN-US_DV9", "MICROSOFT CORPORATION", TRUE);
  g_assert_cmpint (g_chmod (iso, 0), ==, 0);

  media = detect (iso, &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNREADABLE);
  g_assert_nonnull (strstr (error->message, "locked.iso"));
}

static void
test_media_awkward_path (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso = NULL;

  if (!need_tools ("xorriso", NULL))
    return;

  iso = make_labelled_iso ("awkward/Zoë's \"ISOs\", 100% #1", "Win 11, ü & ',\".iso",
                           "CCCOMA_X64FRE_EN-US_DV9", "MICROSOFT CORPORATION", TRUE);
  media = detect (iso, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (media->os_id, ==, "win11");
  g_assert_cmpstr (media->path, ==, iso);
}

static void
detect_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (object);
  *out = g_object_ref (result);
}

static void
test_media_async (void)
{
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(CasementDriverMedia) drivers = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) win = NULL;
  g_autoptr(GFile) virtio = NULL;
  g_autofree char *win_iso = NULL;
  g_autofree char *virtio_iso = NULL;

  if (!need_tools ("xorriso", "genisoimage", NULL))
    return;

  win_iso = make_labelled_iso ("async", "win.iso", "CCCOMA_X64FRE_EN-US_DV9", "MICROSOFT CORPORATION", TRUE);
  virtio_iso = make_virtio_iso ("async-virtio", NULL, NULL);
  win = g_file_new_for_path (win_iso);
  virtio = g_file_new_for_path (virtio_iso);

  casement_media_detect_install_async (win, NULL, detect_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  media = casement_media_detect_install_finish (result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (media->os_id, ==, "win11");
  g_clear_object (&result);

  casement_media_check_drivers_async (virtio, media->os_id, NULL, detect_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  drivers = casement_media_check_drivers_finish (result, &error);
  g_assert_no_error (error);
  g_assert_null (drivers->problem);
  g_clear_object (&result);

  g_clear_pointer (&media, casement_install_media_free);
  g_cancellable_cancel (cancellable);
  casement_media_detect_install_async (win, cancellable, detect_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  media = casement_media_detect_install_finish (result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (media);
}

/* ---- virtio-win discs -------------------------------------------------- */

static void
test_virtio_complete (void)
{
  g_autoptr(CasementDriverMedia) win11 = NULL;
  g_autoptr(CasementDriverMedia) win10 = NULL;
  g_autoptr(CasementDriverMedia) copy = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso = NULL;

  if (!need_tools ("genisoimage", NULL))
    return;

  iso = make_virtio_iso ("virtio-complete", NULL, NULL);

  win11 = check_drivers (iso, "win11", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (win11->path, ==, iso);
  g_assert_cmpstr (win11->version, ==, "0.1.262");
  g_assert_cmpstr (win11->os_dir, ==, "w11");
  g_assert_true (strv_equal (win11->present, "viostor,NetKVM,viofs,Balloon,vioserial,qxldod"));
  g_assert_true (strv_equal (win11->missing, ""));
  g_assert_true (strv_equal (win11->fallbacks, "qxldod"));
  g_assert_true (win11->has_guest_tools);
  g_assert_false (win11->has_winfsp);
  g_assert_null (win11->problem);
  g_assert_nonnull (win11->note);
  g_assert_nonnull (strstr (win11->note, "qxldod"));
  g_assert_nonnull (strstr (win11->note, "w10"));

  win10 = check_drivers (iso, "win10", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (win10->os_dir, ==, "w10");
  g_assert_true (strv_equal (win10->missing, ""));
  g_assert_true (strv_equal (win10->fallbacks, ""));
  g_assert_null (win10->problem);
  g_assert_null (win10->note);

  copy = casement_driver_media_copy (win11);
  g_assert_true (strv_equal (copy->fallbacks, "qxldod"));
  g_assert_cmpstr (copy->note, ==, win11->note);
}

static void
test_virtio_joliet (void)
{
  g_autoptr(CasementDriverMedia) drivers = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *iso = NULL;

  if (!need_tools ("xorriso", NULL))
    return;

  /* Someone's remastered disc: Joliet names, no Rock Ridge */
  dir = test_dir ("virtio-joliet");
  tree = make_virtio_tree ("virtio-joliet", NULL, "winfsp-2.0.23075.msi");
  iso = g_build_filename (dir, "virtio.iso", NULL);
  {
    const char *argv[] = { "xorriso", "-as", "mkisofs", "-quiet", "-J", "-joliet-long", "-V", "virtio-win-0.1.240",
                           "-o", iso, tree, NULL };
    run (argv);
  }

  drivers = check_drivers (iso, "win11", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (drivers->version, ==, "0.1.240");
  g_assert_true (strv_equal (drivers->missing, ""));
  g_assert_true (drivers->has_guest_tools);
  g_assert_true (drivers->has_winfsp);
}

static void
test_virtio_missing_driver (void)
{
  g_autoptr(CasementDriverMedia) drivers = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso = NULL;

  if (!need_tools ("genisoimage", NULL))
    return;

  iso = make_virtio_iso ("virtio-no-viofs", "viofs/w11", NULL);
  drivers = check_drivers (iso, "win11", &error);
  g_assert_no_error (error);
  g_assert_true (strv_equal (drivers->missing, "viofs"));
  g_assert_true (strv_equal (drivers->present, "viostor,NetKVM,Balloon,vioserial,qxldod"));
  g_assert_nonnull (drivers->problem);
  g_assert_nonnull (strstr (drivers->problem, "viofs"));
  g_assert_nonnull (strstr (drivers->problem, "Windows 11"));
  g_assert_nonnull (strstr (drivers->problem, "stable-virtio"));
  g_assert_null (strstr (drivers->problem, "guest-tools"));
  g_clear_pointer (&drivers, casement_driver_media_free);

  /* Windows 10 still has its viofs */
  drivers = check_drivers (iso, "win10", &error);
  g_assert_no_error (error);
  g_assert_null (drivers->problem);
}

static void
test_virtio_no_guest_tools (void)
{
  g_autoptr(CasementDriverMedia) drivers = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *iso = NULL;

  if (!need_tools ("genisoimage", NULL))
    return;

  iso = make_virtio_iso ("virtio-no-tools", "virtio-win-guest-tools.exe", NULL);
  drivers = check_drivers (iso, "win11", &error);
  g_assert_no_error (error);
  g_assert_true (strv_equal (drivers->missing, ""));
  g_assert_false (drivers->has_guest_tools);
  g_assert_nonnull (drivers->problem);
  g_assert_nonnull (strstr (drivers->problem, "virtio-win-guest-tools.exe"));
  g_assert_nonnull (strstr (drivers->problem, "stable-virtio"));
}

static void
test_virtio_wrong_disc (void)
{
  g_autoptr(CasementDriverMedia) drivers = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *windows = NULL;
  g_autofree char *dir = test_dir ("virtio-wrong");
  g_autofree char *text = g_build_filename (dir, "virtio-win.iso", NULL);

  if (!need_tools ("xorriso", "genisoimage", NULL))
    return;

  /* The Windows disc picked twice */
  windows = make_labelled_iso ("virtio-wrong-windows", "win.iso", "CCCOMA_X64FRE_EN-US_DV9",
                               "MICROSOFT CORPORATION", TRUE);
  drivers = check_drivers (windows, "win11", &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_VIRTIO_WIN);
  g_assert_null (drivers);
  g_assert_nonnull (strstr (error->message, "win.iso"));
  g_assert_nonnull (strstr (error->message, "Fedora"));
  g_assert_nonnull (strstr (error->message, "stable-virtio"));
  g_clear_error (&error);

  /* A half-downloaded file */
  write_file (text, "<html>", -1);
  drivers = check_drivers (text, "win11", &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_ISO);
  g_assert_nonnull (strstr (error->message, "stable-virtio"));
  g_clear_error (&error);

  /* A download cut short: descriptors there, folders not */
  {
    g_autofree char *full = make_virtio_iso ("virtio-truncated", NULL, NULL);
    g_autofree char *data = NULL;
    g_autofree char *cut = g_build_filename (dir, "virtio-win-cut.iso", NULL);
    gsize len = 0;

    g_file_get_contents (full, &data, &len, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (len, >, 17 * 2048);
    write_file (cut, data, 17 * 2048);

    drivers = check_drivers (cut, "win11", &error);
    g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNREADABLE);
    g_assert_nonnull (strstr (error->message, "virtio-win-cut.iso"));
    g_assert_nonnull (strstr (error->message, "damaged"));
    g_clear_error (&error);
  }

  /* A Windows that virtio-win does not serve */
  drivers = check_drivers (text, "win7", &error);
  g_assert_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNSUPPORTED);
}

static void
test_virtio_dirs (void)
{
  const char * const *drivers = casement_media_get_required_drivers ();

  g_assert_cmpstr (casement_media_virtio_os_dir ("win11"), ==, "w11");
  g_assert_cmpstr (casement_media_virtio_os_dir ("win10"), ==, "w10");
  g_assert_cmpstr (casement_media_virtio_os_dir ("win2k22"), ==, "2k22");
  g_assert_null (casement_media_virtio_os_dir ("debian11"));

  g_assert_cmpstr (casement_media_virtio_fallback_dir ("qxldod", "win11"), ==, "w10");
  g_assert_cmpstr (casement_media_virtio_fallback_dir ("qxldod", "win2k25"), ==, "2k19");
  g_assert_null (casement_media_virtio_fallback_dir ("qxldod", "win10"));
  g_assert_null (casement_media_virtio_fallback_dir ("viostor", "win11"));

  g_assert_cmpuint (g_strv_length ((char **) drivers), ==, 6);
  g_assert_true (g_strv_contains (drivers, "viostor"));
  g_assert_true (g_strv_contains (drivers, "NetKVM"));
}

/* ---- The disc reader itself -------------------------------------------- */

static CasementIso *
open_iso (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  CasementIso *iso = casement_iso_open (file, NULL, &error);

  g_assert_no_error (error);
  return iso;
}

static void
assert_read (CasementIso *iso,
             const char  *path,
             const char  *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = casement_iso_read (iso, path, 0, G_MAXSIZE, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), expected, strlen (expected));
}

static void
test_iso_rock_ridge (void)
{
  g_autoptr(CasementIso) iso = NULL;
  g_autoptr(CasementIso) level1 = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *tree = NULL;
  gboolean is_dir = FALSE;
  guint64 size = 0;

  if (!need_tools ("genisoimage", NULL))
    return;

  path = make_virtio_iso ("iso-rr", NULL, NULL);
  iso = open_iso (path);
  g_assert_cmpint (casement_iso_get_file_system (iso), ==, CASEMENT_ISO_FILE_SYSTEM_ISO9660);
  g_assert_cmpstr (casement_iso_get_volume_id (iso), ==, "virtio-win-0.1.262");

  names = casement_iso_list_dir (iso, "/", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_contains ((const char * const *) names, "NetKVM"));
  g_assert_true (g_strv_contains ((const char * const *) names, "virtio-win-guest-tools.exe"));
  g_assert_true (g_strv_contains ((const char * const *) names, "virtio-win_license.txt"));

  /* Case-insensitive, either slash, as Windows matches paths */
  assert_read (iso, "netkvm\\W11\\AMD64\\NETKVM.INF", "NetKVM/w11/amd64/netkvm.inf\n");
  assert_read (iso, "/viostor/w11/amd64/viostor.inf", "viostor/w11/amd64/viostor.inf\n");

  g_assert_true (casement_iso_query (iso, "qxldod/w10", &is_dir, &size, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (is_dir);
  g_assert_true (casement_iso_query (iso, "virtio-win_license.txt", &is_dir, &size, NULL, &error));
  g_assert_false (is_dir);
  g_assert_cmpuint (size, ==, strlen ("virtio-win_license.txt\n"));

  g_assert_false (casement_iso_query (iso, "qxldod/w11", NULL, NULL, NULL, &error));
  g_assert_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (casement_iso_query (iso, "virtio-win_license.txt/x", NULL, NULL, NULL, &error));
  g_assert_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Plain -r (level 1 names in ISO 9660): the true names are Rock Ridge's */
  dir = test_dir ("iso-rr-level1");
  tree = make_virtio_tree ("iso-rr-level1", NULL, NULL);
  g_free (path);
  path = g_build_filename (dir, "level1.iso", NULL);
  {
    const char *argv[] = { "genisoimage", "-quiet", "-r", "-input-charset", "iso8859-1", "-o", path, tree, NULL };
    run (argv);
  }
  level1 = open_iso (path);
  assert_read (level1, "virtio-win-guest-tools.exe", "virtio-win-guest-tools.exe\n");
  assert_read (level1, "guest-agent/qemu-ga-x86_64.msi", "guest-agent/qemu-ga-x86_64.msi\n");
}

static void
test_iso_joliet (void)
{
  g_autoptr(CasementIso) iso = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(GBytes) part = NULL;
  g_autofree char *dir = test_dir ("iso-joliet");
  g_autofree char *tree = g_build_filename (dir, "tree", NULL);
  g_autofree char *file = g_build_filename (tree, "Zoë's Files", "Ünïcode naïve – long name of a file.txt", NULL);
  g_autofree char *path = g_build_filename (dir, "joliet.iso", NULL);
  const char *argv[] = { "xorriso", "-as", "mkisofs", "-quiet", "-J", "-joliet-long", "-V", "MIXED_Case",
                         "-publisher", "Someone Else", "-o", path, tree, NULL };

  if (!need_tools ("xorriso", NULL))
    return;

  write_file (file, "0123456789", -1);
  run (argv);

  iso = open_iso (path);
  g_assert_cmpint (casement_iso_get_file_system (iso), ==, CASEMENT_ISO_FILE_SYSTEM_JOLIET);
  g_assert_cmpstr (casement_iso_get_volume_id (iso), ==, "MIXED_Case");
  /* Publisher is read from the primary descriptor, as libosinfo reads it */
  g_assert_cmpstr (casement_iso_get_publisher_id (iso), ==, "SOMEONE ELSE");

  names = casement_iso_list_dir (iso, "Zoë's Files", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (names), ==, 1);
  g_assert_cmpstr (names[0], ==, "Ünïcode naïve – long name of a file.txt");

  /* Case folding beyond ASCII */
  assert_read (iso, "ZOË'S FILES/üNÏCODE NAÏVE – LONG NAME OF A FILE.TXT", "0123456789");

  part = casement_iso_read (iso, "Zoë's Files/Ünïcode naïve – long name of a file.txt", 7, 100, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (part, NULL), g_bytes_get_size (part), "789", 3);
}

static void
test_iso_udf (void)
{
  static const WimImage images[] = { { "Windows 11 Pro", "Professional" } };
  g_autoptr(CasementIso) iso = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(GBytes) wim_bytes = NULL;
  g_autofree char *path = NULL;
  g_autofree char *wim_path = NULL;
  g_autofree char *wim = NULL;
  gsize wim_len = 0;

  if (!need_tools ("genisoimage", "wimlib-imagex", NULL))
    return;

  path = make_windows_udf_iso ("iso-udf", "CCCOMA_X64FRE_EN-US_DV9", "install.wim", 22631, "9",
                               images, G_N_ELEMENTS (images));
  iso = open_iso (path);

  /* The ISO 9660 side shows only the README; UDF has it all. */
  g_assert_cmpint (casement_iso_get_file_system (iso), ==, CASEMENT_ISO_FILE_SYSTEM_UDF);
  g_assert_cmpstr (casement_iso_get_volume_id (iso), ==, "CCCOMA_X64FRE_EN-US_DV9");
  g_assert_cmpstr (casement_iso_get_publisher_id (iso), ==, "MICROSOFT CORPORATION");

  names = casement_iso_list_dir (iso, "", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_contains ((const char * const *) names, "sources"));
  g_assert_true (g_strv_contains ((const char * const *) names, "setup.exe"));
  g_assert_true (g_strv_contains ((const char * const *) names, "README.TXT"));

  wim_path = g_build_filename (tmp_root, "iso-udf", "tree", "sources", "install.wim", NULL);
  g_file_get_contents (wim_path, &wim, &wim_len, &error);
  g_assert_no_error (error);

  wim_bytes = casement_iso_read (iso, "SOURCES/INSTALL.WIM", 0, G_MAXSIZE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (wim_bytes, NULL), g_bytes_get_size (wim_bytes), wim, wim_len);
}

static void
test_iso_not_iso (void)
{
  g_autoptr(CasementIso) iso = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = test_dir ("iso-not-iso");
  g_autofree char *path = g_build_filename (dir, "zeros.iso", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree char *zeros = g_malloc0 (64 * 2048);

  write_file (path, zeros, 64 * 2048);
  iso = casement_iso_open (file, NULL, &error);
  g_assert_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_NOT_ISO);
  g_assert_null (iso);
}

static void
test_iso_write (void)
{
  g_autoptr(CasementIso) iso = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(GFile) file = NULL;
  g_auto(GStrv) names = NULL;
  g_autofree char *dir = test_dir ("iso-write");
  g_autofree char *path = g_build_filename (dir, "one.iso", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  GStatBuf st;
  int status;

  /* Several sectors, not a multiple of 2048 */
  for (guint i = 0; i < 1000; i++)
    g_string_append_printf (text, "line %u\n", i);
  contents = g_bytes_new (text->str, text->len);
  file = g_file_new_for_path (path);

  g_assert_true (casement_iso_write_single_file (file, "CASEMENT", "my-answers.xml", contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (st.st_size % 2048, ==, 0);

  iso = open_iso (path);
  g_assert_cmpint (casement_iso_get_file_system (iso), ==, CASEMENT_ISO_FILE_SYSTEM_JOLIET);
  g_assert_cmpstr (casement_iso_get_volume_id (iso), ==, "CASEMENT");
  names = casement_iso_list_dir (iso, "/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (names), ==, 1);
  g_assert_cmpstr (names[0], ==, "my-answers.xml");
  assert_read (iso, "my-answers.xml", text->str);

  /* Bad names and labels are refused before anything is written */
  g_assert_false (casement_iso_write_single_file (file, "CASEMENT", "a/b.xml", contents, NULL, &error));
  g_assert_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (casement_iso_write_single_file (file, "A LABEL MUCH TOO LONG", "a.xml", contents, NULL, &error));
  g_assert_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID);
  g_clear_error (&error);

  if (!need_tools ("xorriso", NULL))
    return;

  /* Another reader agrees: xorriso sees the Joliet name and the content */
  {
    const char *argv[] = { "xorriso", "-indev", path, "-ls", "/", NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "'my-answers.xml'"));
    g_assert_null (strstr (err, "FAILURE"));
    g_assert_null (strstr (err, "SORRY"));
  }
  {
    g_autofree char *extracted = g_build_filename (dir, "extracted.xml", NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    const char *argv[] = { "xorriso", "-osirrox", "on", "-indev", path, "-extract", "/my-answers.xml", extracted, NULL };

    run (argv);
    g_file_get_contents (extracted, &data, &len, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (data, len, text->str, text->len);
  }
}

static void
test_iso_write_files (void)
{
  g_autoptr(CasementIso) iso = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) xml = NULL;
  g_autoptr(GBytes) msi = NULL;
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr(GFile) file = NULL;
  g_auto(GStrv) names = NULL;
  g_autofree char *dir = test_dir ("iso-write-files");
  g_autofree char *path = g_build_filename (dir, "several.iso", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  guint8 *msi_data;
  gsize msi_size = 2 * 1024 * 1024 + 123;
  int status;

  xml = g_bytes_new_static ("<unattend/>\n", strlen ("<unattend/>\n"));
  msi_data = g_malloc (msi_size);
  for (gsize i = 0; i < msi_size; i++)
    msi_data[i] = (guint8) ((i * 2654435761u) >> 11);
  msi = g_bytes_new_take (msi_data, msi_size);
  file = g_file_new_for_path (path);

  /* Given out of order, so each tree has to sort its names ('-' sorts
   * before 'a' in Joliet; '_' after the letters in ISO 9660) */
  {
    const CasementIsoEntry entries[] = {
      { "winfsp-2.0.23075.msi", msi },
      { "autounattend.xml", xml },
      { "empty.txt", empty },
      { "-early.txt", xml },
    };

    g_assert_true (casement_iso_write_files (file, "CASEMENT", entries, G_N_ELEMENTS (entries), NULL, &error));
    g_assert_no_error (error);
  }

  iso = open_iso (path);
  g_assert_cmpint (casement_iso_get_file_system (iso), ==, CASEMENT_ISO_FILE_SYSTEM_JOLIET);
  names = casement_iso_list_dir (iso, "/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (names), ==, 4);
  g_assert_cmpstr (names[0], ==, "-early.txt");
  g_assert_cmpstr (names[1], ==, "autounattend.xml");
  g_assert_cmpstr (names[2], ==, "empty.txt");
  g_assert_cmpstr (names[3], ==, "winfsp-2.0.23075.msi");
  assert_read (iso, "autounattend.xml", "<unattend/>\n");
  assert_read (iso, "-early.txt", "<unattend/>\n");
  assert_read (iso, "empty.txt", "");
  {
    g_autoptr(GBytes) read_back = casement_iso_read (iso, "WINFSP-2.0.23075.MSI", 0, G_MAXSIZE, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (read_back, NULL), g_bytes_get_size (read_back), msi_data, msi_size);
  }

  /* Names that would be one in a tree, and too many files, are refused */
  {
    const CasementIsoEntry clash[] = { { "a-b.txt", xml }, { "A_B.txt", xml } };
    const CasementIsoEntry same[] = { { "a.txt", xml }, { "A.TXT", xml } };
    static const char * const many_names[] = {
      "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f", "g",
    };
    CasementIsoEntry many[G_N_ELEMENTS (many_names)];

    g_assert_false (casement_iso_write_files (file, "CASEMENT", clash, G_N_ELEMENTS (clash), NULL, &error));
    g_assert_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (casement_iso_write_files (file, "CASEMENT", same, G_N_ELEMENTS (same), NULL, &error));
    g_assert_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID);
    g_clear_error (&error);

    for (guint i = 0; i < G_N_ELEMENTS (many); i++)
      {
        many[i].name = many_names[i];
        many[i].contents = xml;
      }
    g_assert_false (casement_iso_write_files (file, "CASEMENT", many, G_N_ELEMENTS (many), NULL, &error));
    g_assert_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID);
    g_clear_error (&error);

    /* The image written before is still whole */
    g_clear_object (&iso);
    iso = open_iso (path);
    assert_read (iso, "autounattend.xml", "<unattend/>\n");
  }

  if (!need_tools ("xorriso", "isoinfo", NULL))
    return;

  /* Other readers agree: xorriso lists the Joliet names without complaint
   * and extracts the same bytes; isoinfo shows the ISO 9660 names */
  {
    const char *argv[] = { "xorriso", "-indev", path, "-ls", "/", NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "'autounattend.xml'"));
    g_assert_nonnull (strstr (out, "'winfsp-2.0.23075.msi'"));
    g_assert_nonnull (strstr (out, "'empty.txt'"));
    g_assert_nonnull (strstr (out, "'-early.txt'"));
    g_assert_null (strstr (err, "FAILURE"));
    g_assert_null (strstr (err, "SORRY"));
    g_assert_null (strstr (err, "WARNING"));
  }
  {
    g_autofree char *extracted = g_build_filename (dir, "extracted.msi", NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    const char *argv[] = { "xorriso", "-osirrox", "on", "-indev", path, "-extract", "/winfsp-2.0.23075.msi",
                           extracted, NULL };

    run (argv);
    g_file_get_contents (extracted, &data, &len, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (data, len, msi_data, msi_size);
  }
  {
    g_autofree char *plain = NULL;
    const char *argv[] = { "isoinfo", "-i", path, "-l", NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, &plain, NULL, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (plain, "AUTOUNATTEND.XML;1"));
    g_assert_nonnull (strstr (plain, "WINFSP_2.0.23075.MSI;1"));
    g_assert_nonnull (strstr (plain, "_EARLY.TXT;1"));
    g_assert_true (strstr (plain, "AUTOUNATTEND.XML;1") < strstr (plain, "_EARLY.TXT;1"));
  }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  tmp_root = g_dir_make_tmp ("casement-test-media-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/Casement/Media/win11-label", test_media_win11_label);
  g_test_add_func ("/Casement/Media/win10-label", test_media_win10_label);
  g_test_add_data_func ("/Casement/Media/image-list-wim", GINT_TO_POINTER (FALSE), test_media_wim_decides);
  g_test_add_data_func ("/Casement/Media/image-list-esd", GINT_TO_POINTER (TRUE), test_media_wim_decides);
  g_test_add_func ("/Casement/Media/unknown-windows", test_media_unknown_windows);
  g_test_add_func ("/Casement/Media/not-x86-64", test_media_not_x86_64);
  g_test_add_func ("/Casement/Media/unsupported-windows", test_media_unsupported_windows);
  g_test_add_func ("/Casement/Media/not-bootable", test_media_not_bootable);
  g_test_add_func ("/Casement/Media/not-windows", test_media_linux);
  g_test_add_func ("/Casement/Media/not-iso", test_media_not_iso);
  g_test_add_func ("/Casement/Media/unreadable", test_media_unreadable);
  g_test_add_func ("/Casement/Media/unreadable-permission", test_media_unreadable_permission);
  g_test_add_func ("/Casement/Media/awkward-path", test_media_awkward_path);
  g_test_add_func ("/Casement/Media/async", test_media_async);
  g_test_add_func ("/Casement/Media/virtio-complete", test_virtio_complete);
  g_test_add_func ("/Casement/Media/virtio-joliet", test_virtio_joliet);
  g_test_add_func ("/Casement/Media/virtio-missing-driver", test_virtio_missing_driver);
  g_test_add_func ("/Casement/Media/virtio-no-guest-tools", test_virtio_no_guest_tools);
  g_test_add_func ("/Casement/Media/virtio-wrong-disc", test_virtio_wrong_disc);
  g_test_add_func ("/Casement/Media/virtio-dirs", test_virtio_dirs);
  g_test_add_func ("/Casement/Iso/rock-ridge", test_iso_rock_ridge);
  g_test_add_func ("/Casement/Iso/joliet", test_iso_joliet);
  g_test_add_func ("/Casement/Iso/udf", test_iso_udf);
  g_test_add_func ("/Casement/Iso/not-iso", test_iso_not_iso);
  g_test_add_func ("/Casement/Iso/write", test_iso_write);
  g_test_add_func ("/Casement/Iso/write-files", test_iso_write_files);

  ret = g_test_run ();

  rm_rf (tmp_root);
  g_free (tmp_root);

  return ret;
}
