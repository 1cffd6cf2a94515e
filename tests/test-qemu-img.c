/* test-qemu-img.c
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

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "casement-qemu-img.h"

#define MIB (G_GUINT64_CONSTANT (1) << 20)
#define GIB (G_GUINT64_CONSTANT (1) << 30)
#define PIB (G_GUINT64_CONSTANT (1) << 50)

/* Paths as users make them: spaces, commas (QEMU's option separator) and
 * non-ASCII characters. */
#define AWKWARD_NAME "My Disk, für “Windows”.qcow2"

static GAsyncResult *
wait_for_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static char *
make_test_dir (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "Images, ü", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return g_steal_pointer (&dir);
}

static gboolean
create_image (const char  *path,
              guint64      size,
              GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);

  casement_qemu_img_create_async (file, size, NULL, store_result, &result);
  return casement_qemu_img_create_finish (wait_for_result (&result), error);
}

static gboolean
convert_image (const char  *source,
               const char  *format,
               const char  *dest,
               GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GFile) source_file = g_file_new_for_path (source);
  g_autoptr(GFile) dest_file = g_file_new_for_path (dest);

  casement_qemu_img_convert_async (source_file, format, dest_file, NULL, store_result, &result);
  return casement_qemu_img_convert_finish (wait_for_result (&result), error);
}

static gboolean
read_info (const char           *path,
           CasementQemuImgInfo  *info,
           GError              **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);

  casement_qemu_img_info_async (file, NULL, store_result, &result);
  return casement_qemu_img_info_finish (wait_for_result (&result), info, error);
}

static gboolean
resize_image (const char  *path,
              guint64      size,
              GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);

  casement_qemu_img_resize_async (file, size, NULL, store_result, &result);
  return casement_qemu_img_resize_finish (wait_for_result (&result), error);
}

static guint
count_entries (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir))
    n++;

  return n;
}

static void
test_qemu_img_create (void)
{
  g_auto(CasementQemuImgInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, AWKWARD_NAME, NULL);
  gint64 start = g_get_monotonic_time ();
  struct stat st;

  g_assert_true (create_image (path, 64 * GIB, &error));
  g_assert_no_error (error);
  g_test_message ("Created a 64 GiB qcow2 in %.0f ms", (g_get_monotonic_time () - start) / 1000.0);

  g_assert_true (read_info (path, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info.format, ==, "qcow2");
  g_assert_cmpuint (info.virtual_size, ==, 64 * GIB);
  g_assert_cmpuint (info.cluster_size, ==, 65536);
  g_assert_true (info.lazy_refcounts);

  /* Sparse: the header and tables only, a few hundred KiB. */
  g_test_message ("64 GiB image uses %" G_GUINT64_FORMAT " bytes", info.actual_size);
  g_assert_cmpuint (info.actual_size, >, 0);
  g_assert_cmpuint (info.actual_size, <, MIB);

  /* A disk holds the user's data: private to them. */
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
}

static void
test_qemu_img_create_refuses_overwrite (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, AWKWARD_NAME, NULL);
  g_autofree char *target = g_build_filename (dir, "precious.txt", NULL);
  g_autofree char *link = g_build_filename (dir, "link.qcow2", NULL);
  g_autofree char *contents = NULL;

  g_assert_true (g_file_set_contents (path, "precious data", -1, NULL));
  g_assert_false (create_image (path, GIB, &error));
  g_assert_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "precious data");
  g_clear_error (&error);
  g_clear_pointer (&contents, g_free);

  /* Nor through a symbolic link, dangling or not. */
  g_assert_true (g_file_set_contents (target, "precious data", -1, NULL));
  g_assert_cmpint (symlink (target, link), ==, 0);
  g_assert_false (create_image (link, GIB, &error));
  g_assert_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_EXISTS);
  g_assert_true (g_file_get_contents (target, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "precious data");
  g_clear_error (&error);

  g_assert_cmpint (g_unlink (target), ==, 0);
  g_assert_false (create_image (link, GIB, &error));
  g_assert_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_EXISTS);
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
}

static void
test_qemu_img_create_error_message (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, AWKWARD_NAME, NULL);

  /* Beyond what qcow2 with 64 KiB clusters can address: qemu-img itself
   * refuses, and says why. */
  g_assert_false (create_image (path, 4 * PIB, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "qemu-img: "));
  g_assert_nonnull (strstr (error->message, "too large"));

  /* The name claimed before qemu-img ran is released again. */
  g_assert_cmpuint (count_entries (dir), ==, 0);
}

static void
test_qemu_img_not_found (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, "disk.qcow2", NULL);

  g_setenv ("CASEMENT_QEMU_IMG", "/nonexistent/qemu-img", TRUE);
  g_assert_false (create_image (path, GIB, &error));
  g_unsetenv ("CASEMENT_QEMU_IMG");

  g_assert_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "CASEMENT_QEMU_IMG"));
  g_assert_cmpuint (count_entries (dir), ==, 0);
}

static void
test_qemu_img_info_error (void)
{
  g_auto(CasementQemuImgInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, "absent.qcow2", NULL);

  g_assert_false (read_info (path, &info, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "qemu-img: "));
  g_assert_nonnull (strstr (error->message, "absent.qcow2"));
  g_assert_null (info.format);
}

/* Reads an image back as raw bytes with qemu-img itself. */
static GBytes *
read_back_raw (const char *image,
               const char *scratch)
{
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) mapped = NULL;

  subprocess = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                                 "qemu-img", "convert", "-f", "qcow2", "-O", "raw", image, scratch, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (subprocess, NULL, &error));
  g_assert_no_error (error);

  mapped = g_mapped_file_new (scratch, FALSE, &error);
  g_assert_no_error (error);
  return g_mapped_file_get_bytes (mapped);
}

static void
test_qemu_img_convert (void)
{
  g_auto(CasementQemuImgInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) copied = NULL;
  g_autoptr(GByteArray) pattern = g_byte_array_new ();
  g_autofree char *dir = make_test_dir ();
  g_autofree char *raw = g_build_filename (dir, "source, raw ü.img", NULL);
  g_autofree char *dest = g_build_filename (dir, AWKWARD_NAME, NULL);
  g_autofree char *scratch = g_build_filename (dir, "read-back.img", NULL);
  g_autofree char *before = NULL;
  gsize before_length;

  for (guint i = 0; i < MIB; i++)
    g_byte_array_append (pattern, (const guint8 *)&(guint8) { (guint8) (i * 7 + i / 4096) }, 1);
  g_assert_true (g_file_set_contents (raw, (const char *)pattern->data, pattern->len, NULL));

  g_assert_true (convert_image (raw, "raw", dest, &error));
  g_assert_no_error (error);

  g_assert_true (read_info (dest, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info.format, ==, "qcow2");
  g_assert_cmpuint (info.virtual_size, ==, MIB);

  copied = read_back_raw (dest, scratch);
  g_assert_cmpmem (g_bytes_get_data (copied, NULL), g_bytes_get_size (copied), pattern->data, pattern->len);

  /* A second conversion onto the same file is refused, the first kept. */
  g_assert_true (g_file_get_contents (dest, &before, &before_length, NULL));
  g_assert_false (convert_image (raw, "raw", dest, &error));
  g_assert_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_EXISTS);
  g_clear_error (&error);
  {
    g_autofree char *after = NULL;
    gsize after_length;

    g_assert_true (g_file_get_contents (dest, &after, &after_length, NULL));
    g_assert_cmpmem (before, before_length, after, after_length);
  }

  /* A source qemu-img cannot read: its message, and no half-made file. */
  g_assert_cmpint (g_unlink (dest), ==, 0);
  g_assert_false (convert_image (raw, "no-such-format", dest, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "no-such-format"));
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
}

/* The one conversion Casement needs: the per-VM UEFI variable store. */
static void
test_qemu_img_convert_ovmf_vars (void)
{
  const char *vars = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
  g_auto(CasementQemuImgInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *dest = g_build_filename (dir, "efivars.qcow2", NULL);
  g_autofree char *scratch = g_build_filename (dir, "read-back.fd", NULL);
  g_autofree char *template = NULL;
  g_autoptr(GBytes) copied = NULL;
  gsize template_length;

  if (!g_file_test (vars, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip ("OVMF (package ovmf) is not installed");
      return;
    }

  g_assert_true (convert_image (vars, "raw", dest, &error));
  g_assert_no_error (error);
  g_assert_true (read_info (dest, &info, &error));
  g_assert_cmpstr (info.format, ==, "qcow2");

  g_assert_true (g_file_get_contents (vars, &template, &template_length, NULL));
  g_assert_cmpuint (info.virtual_size, ==, template_length);
  copied = read_back_raw (dest, scratch);
  g_assert_cmpmem (g_bytes_get_data (copied, NULL), g_bytes_get_size (copied), template, template_length);
}

static void
test_qemu_img_resize (void)
{
  g_auto(CasementQemuImgInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, AWKWARD_NAME, NULL);

  g_assert_true (create_image (path, GIB, &error));
  g_assert_no_error (error);

  g_assert_true (resize_image (path, 3 * GIB, &error));
  g_assert_no_error (error);
  g_assert_true (read_info (path, &info, &error));
  g_assert_cmpuint (info.virtual_size, ==, 3 * GIB);
  casement_qemu_img_info_clear (&info);

  g_assert_false (resize_image (path, 2 * GIB, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_SHRINK);
  g_assert_nonnull (strstr (error->message, "3.0\302\240GiB"));
  g_clear_error (&error);
  g_assert_true (read_info (path, &info, &error));
  g_assert_cmpuint (info.virtual_size, ==, 3 * GIB);
  casement_qemu_img_info_clear (&info);

  g_assert_true (resize_image (path, 3 * GIB, &error));
  g_assert_no_error (error);
  g_assert_true (read_info (path, &info, &error));
  g_assert_cmpuint (info.virtual_size, ==, 3 * GIB);
  g_assert_true (info.lazy_refcounts);
}

/* Wakes the main loop while a test polls for a file. */
static gboolean
keep_polling (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Real qemu-img is done within milliseconds; this stand-in runs until it is
 * killed, so a test can cancel while "qemu-img" runs. It writes its
 * process id to @pidfile once started. */
static char *
write_hanging_qemu_img (const char *dir,
                        const char *pidfile)
{
  g_autofree char *script = g_build_filename (dir, "hanging-qemu-img", NULL);
  g_autofree char *text = NULL;

  text = g_strdup_printf ("#!/bin/sh\necho $$ > '%s.tmp'\nmv '%s.tmp' '%s'\nexec sleep 600\n",
                          pidfile, pidfile, pidfile);
  g_assert_true (g_file_set_contents (script, text, -1, NULL));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);

  return g_steal_pointer (&script);
}

static void
test_qemu_img_cancel (void)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *tools = g_build_filename (g_get_user_cache_dir (), "tools", NULL);
  g_autofree char *pidfile = g_build_filename (tools, "qemu-img.pid", NULL);
  g_autofree char *script = NULL;
  g_autofree char *pid_text = NULL;
  g_autofree char *path = g_build_filename (dir, AWKWARD_NAME, NULL);
  guint source;
  int pid;

  g_assert_cmpint (g_mkdir_with_parents (tools, 0700), ==, 0);
  script = write_hanging_qemu_img (tools, pidfile);
  g_setenv ("CASEMENT_QEMU_IMG", script, TRUE);

  file = g_file_new_for_path (path);
  casement_qemu_img_create_async (file, GIB, cancellable, store_result, &result);

  source = g_timeout_add (10, keep_polling, NULL);
  while (!g_file_test (pidfile, G_FILE_TEST_EXISTS))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (source);
  g_cancellable_cancel (cancellable);

  g_assert_false (casement_qemu_img_create_finish (wait_for_result (&result), &error));
  g_unsetenv ("CASEMENT_QEMU_IMG");
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* Nothing left: neither the file nor the process. */
  g_assert_cmpuint (count_entries (dir), ==, 0);
  g_assert_true (g_file_get_contents (pidfile, &pid_text, NULL, NULL));
  pid = atoi (pid_text);
  g_assert_cmpint (pid, >, 0);
  g_assert_cmpint (kill (pid, 0), ==, -1);
  g_assert_cmpint (errno, ==, ESRCH);
}

static void
test_qemu_img_cancel_before_start (void)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, "disk.qcow2", NULL);

  g_cancellable_cancel (cancellable);
  file = g_file_new_for_path (path);
  casement_qemu_img_create_async (file, GIB, cancellable, store_result, &result);
  g_assert_false (casement_qemu_img_create_finish (wait_for_result (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (count_entries (dir), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/Casement/QemuImg/create", test_qemu_img_create);
  g_test_add_func ("/Casement/QemuImg/create-refuses-overwrite", test_qemu_img_create_refuses_overwrite);
  g_test_add_func ("/Casement/QemuImg/create-error-message", test_qemu_img_create_error_message);
  g_test_add_func ("/Casement/QemuImg/not-found", test_qemu_img_not_found);
  g_test_add_func ("/Casement/QemuImg/info-error", test_qemu_img_info_error);
  g_test_add_func ("/Casement/QemuImg/convert", test_qemu_img_convert);
  g_test_add_func ("/Casement/QemuImg/convert-ovmf-vars", test_qemu_img_convert_ovmf_vars);
  g_test_add_func ("/Casement/QemuImg/resize", test_qemu_img_resize);
  g_test_add_func ("/Casement/QemuImg/cancel", test_qemu_img_cancel);
  g_test_add_func ("/Casement/QemuImg/cancel-before-start", test_qemu_img_cancel_before_start);

  return g_test_run ();
}
