/* test-vm-store.c
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

#include "casement-qemu-command.h"
#include "casement-qemu-img.h"
#include "casement-vm-store.h"

#define GIB (G_GUINT64_CONSTANT (1) << 30)
#define PIB (G_GUINT64_CONSTANT (1) << 50)

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static char *
create_vm (CasementVmStore   *store,
           CasementVmConfig  *config,
           GCancellable      *cancellable,
           GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_vm_store_create_async (store, config, cancellable, store_result, &result);
  return casement_vm_store_create_finish (store, wait_for_result (&result), error);
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

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

/* Everything in @path, hidden entries included, sorted. */
static char *
list_entries (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return g_strdup ("(no folder)");

  while ((name = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);

  return g_strjoinv (" ", (char **)names->pdata);
}

static char *
dup_strv_joined (char **strv)
{
  return g_strjoinv (" ", strv);
}

/* A Windows 11 VM of the smallest size validate() allows; the 64 GiB disk
 * is sparse, so it costs a few hundred KiB. */
static CasementVmConfig *
make_config (const char *name)
{
  return casement_vm_config_new (name);
}

static void
test_vm_store_default_root (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "casement", "vms", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) slugs = NULL;

  g_assert_cmpstr (casement_vm_store_get_root (store), ==, expected);

  /* No library yet: no VMs, no error, and nothing created by looking. */
  slugs = casement_vm_store_list (store, &error);
  g_assert_no_error (error);
  g_assert_nonnull (slugs);
  g_assert_null (slugs[0]);
  g_assert_null (casement_vm_store_lookup (store, "anything"));
  g_assert_false (g_file_test (expected, G_FILE_TEST_EXISTS));

  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_vm_store_relative_root (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new ("some/library");
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *expected = g_build_filename (cwd, "some", "library", NULL);

  g_assert_cmpstr (casement_vm_store_get_root (store), ==, expected);
}

static void
assert_slug (CasementVmStore *store,
             const char      *name,
             const char      *expected)
{
  g_autofree char *slug = casement_vm_store_make_slug (store, name);

  g_test_message ("“%s” → %s", name, slug);
  g_assert_cmpstr (slug, ==, expected);
}

static void
test_vm_store_slugs (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  const char *root = casement_vm_store_get_root (store);
  g_autofree char *hashed = NULL;
  g_autofree char *hashed_again = NULL;
  g_autofree char *hashed_other = NULL;
  g_autofree char *taken = g_build_filename (root, "windows-11", NULL);
  g_autofree char *taken_2 = g_build_filename (root, "windows-11-2", NULL);
  g_autofree char *file = g_build_filename (root, "notes", NULL);
  g_autofree char *long_slug = NULL;

  assert_slug (store, "Windows 11", "windows-11");
  assert_slug (store, "  My  VM!! (test) ", "my-vm-test");
  assert_slug (store, "Ünïcödé", "unicode");
  assert_slug (store, "Straße, Büro", "strasse-buro");
  assert_slug (store, "Win/../../etc", "win-etc");
  assert_slug (store, ".hidden", "hidden");
  assert_slug (store, "UPPER_case.Name", "upper-case-name");

  /* Nothing ASCII left: a short hash, the same every time, different for
   * another name. */
  hashed = casement_vm_store_make_slug (store, "测试");
  hashed_again = casement_vm_store_make_slug (store, "测试");
  hashed_other = casement_vm_store_make_slug (store, "测试二");
  g_test_message ("“测试” → %s, “测试二” → %s", hashed, hashed_other);
  g_assert_true (g_regex_match_simple ("^vm-[0-9a-f]{8}$", hashed, 0, 0));
  g_assert_cmpstr (hashed, ==, hashed_again);
  g_assert_cmpstr (hashed, !=, hashed_other);
  g_assert_true (g_regex_match_simple ("^vm-[0-9a-f]{8}$", hashed_other, 0, 0));
  g_clear_pointer (&hashed, g_free);
  hashed = casement_vm_store_make_slug (store, "!!! ---");
  g_assert_true (g_regex_match_simple ("^vm-[0-9a-f]{8}$", hashed, 0, 0));

  long_slug = casement_vm_store_make_slug (store, "A very long name for a virtual machine that nobody wants to type again");
  g_test_message ("long → %s", long_slug);
  g_assert_cmpuint (strlen (long_slug), <=, 40);
  g_assert_false (g_str_has_suffix (long_slug, "-"));
  g_assert_cmpstr (long_slug, ==, "a-very-long-name-for-a-virtual-machine");

  /* Taken names get the next free suffix; any file counts as taken. */
  g_assert_cmpint (g_mkdir_with_parents (taken, 0700), ==, 0);
  assert_slug (store, "Windows 11", "windows-11-2");
  assert_slug (store, "windows 11!", "windows-11-2");
  g_assert_cmpint (g_mkdir_with_parents (taken_2, 0700), ==, 0);
  assert_slug (store, "Windows 11", "windows-11-3");
  g_assert_true (g_file_set_contents (file, "", 0, NULL));
  assert_slug (store, "Notes", "notes-2");
}

static void
test_vm_store_create (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = make_config ("Windows 11");
  g_autoptr(CasementVmConfig) loaded = NULL;
  g_auto(CasementQemuImgInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *json_path = NULL;
  g_autofree char *json = NULL;
  g_autofree char *loaded_json = NULL;
  g_autofree char *entries = NULL;
  g_autofree char *found = NULL;
  g_auto(GStrv) slugs = NULL;
  g_autofree char *joined = NULL;
  gint64 start = g_get_monotonic_time ();
  struct stat st;

  casement_vm_config_set_install_iso (config, "/isos/Win11_23H2, English x64.iso");
  slug = create_vm (store, config, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("Created VM in %.0f ms", (g_get_monotonic_time () - start) / 1000.0);
  g_assert_cmpstr (slug, ==, "windows-11");

  dir = casement_vm_store_dup_vm_dir (store, slug);
  entries = list_entries (dir);
  g_assert_cmpstr (entries, ==, "disk.qcow2 vm.json");
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* Nothing but the VM in the library: the staging folder became it. */
  g_clear_pointer (&entries, g_free);
  entries = list_entries (casement_vm_store_get_root (store));
  g_assert_cmpstr (entries, ==, "windows-11");

  json_path = g_build_filename (dir, CASEMENT_VM_CONFIG_FILE, NULL);
  g_assert_cmpint (g_stat (json_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  loaded = casement_vm_store_load (store, slug, &error);
  g_assert_no_error (error);
  json = casement_vm_config_to_json (config);
  loaded_json = casement_vm_config_to_json (loaded);
  g_assert_cmpstr (json, ==, loaded_json);

  disk = g_build_filename (dir, "disk.qcow2", NULL);
  g_assert_true (read_info (disk, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info.format, ==, "qcow2");
  g_assert_cmpuint (info.virtual_size, ==, 64 * GIB);
  g_assert_true (info.lazy_refcounts);

  slugs = casement_vm_store_list (store, &error);
  g_assert_no_error (error);
  joined = dup_strv_joined (slugs);
  g_assert_cmpstr (joined, ==, "windows-11");

  found = casement_vm_store_lookup (store, "windows-11");
  g_assert_cmpstr (found, ==, slug);
  g_clear_pointer (&found, g_free);
  found = casement_vm_store_lookup (store, "Windows 11");
  g_assert_cmpstr (found, ==, slug);
  g_clear_pointer (&found, g_free);
  found = casement_vm_store_lookup (store, "WINDOWS 11 ");
  g_assert_cmpstr (found, ==, slug);
  g_assert_null (casement_vm_store_lookup (store, "Windows 10"));
  g_assert_null (casement_vm_store_lookup (store, "../vms/windows-11"));
}

static void
test_vm_store_create_duplicates (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) first = make_config ("Windows 11");
  g_autoptr(CasementVmConfig) same = make_config ("wINDOWS 11");
  g_autoptr(CasementVmConfig) similar = make_config ("Windows-11!");
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *second = NULL;
  g_autofree char *entries = NULL;

  slug = create_vm (store, first, NULL, &error);
  g_assert_no_error (error);

  /* The same name in other letters is the same VM to a person. */
  g_assert_null (create_vm (store, same, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "wINDOWS 11"));
  g_clear_error (&error);

  /* A different name with the same slug gets a folder of its own. */
  second = create_vm (store, similar, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (second, ==, "windows-11-2");

  entries = list_entries (casement_vm_store_get_root (store));
  g_assert_cmpstr (entries, ==, "windows-11 windows-11-2");
}

static void
test_vm_store_create_without_disk (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = make_config ("测试");
  g_autoptr(CasementVmConfig) existing_disk = make_config ("Existing disk");
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *other = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *other_dir = NULL;
  g_autofree char *entries = NULL;

  casement_vm_config_set_os_id (config, "debian12");
  casement_vm_config_set_disk_size (config, 0);
  slug = create_vm (store, config, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (slug, "vm-"));
  dir = casement_vm_store_dup_vm_dir (store, slug);
  entries = list_entries (dir);
  g_assert_cmpstr (entries, ==, "vm.json");

  /* An absolute disk path is the user's existing image: left alone. */
  casement_vm_config_set_disk_path (existing_disk, "/var/lib/images/win.qcow2");
  other = create_vm (store, existing_disk, NULL, &error);
  g_assert_no_error (error);
  other_dir = casement_vm_store_dup_vm_dir (store, other);
  g_clear_pointer (&entries, g_free);
  entries = list_entries (other_dir);
  g_assert_cmpstr (entries, ==, "vm.json");
}

static void
test_vm_store_create_subfolder_disk (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = make_config ("Sub");
  g_auto(CasementQemuImgInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *disk = NULL;

  casement_vm_config_set_disk_path (config, "disks/system, main.qcow2");
  slug = create_vm (store, config, NULL, &error);
  g_assert_no_error (error);
  dir = casement_vm_store_dup_vm_dir (store, slug);
  disk = g_build_filename (dir, "disks", "system, main.qcow2", NULL);
  g_assert_true (read_info (disk, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.virtual_size, ==, 64 * GIB);
}

static void
test_vm_store_create_invalid (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = make_config ("Too small");
  g_autoptr(GError) error = NULL;

  casement_vm_config_set_memory_mib (config, 1024);
  g_assert_null (create_vm (store, config, NULL, &error));
  g_assert_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID);
  g_assert_false (g_file_test (casement_vm_store_get_root (store), G_FILE_TEST_EXISTS));
}

static void
test_vm_store_create_failure_leaves_nothing (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = make_config ("Too big");
  g_autoptr(GError) error = NULL;
  g_autofree char *entries = NULL;

  /* Valid for Casement, refused by qemu-img: qcow2 with 64 KiB clusters
   * cannot address 4 PiB. */
  casement_vm_config_set_disk_size (config, 4 * PIB);
  g_assert_null (create_vm (store, config, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "qemu-img: "));

  entries = list_entries (casement_vm_store_get_root (store));
  g_assert_cmpstr (entries, ==, "");
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
test_vm_store_create_cancel (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = make_config ("Cancelled");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tools = g_build_filename (g_get_user_cache_dir (), "tools", NULL);
  g_autofree char *pidfile = g_build_filename (tools, "qemu-img.pid", NULL);
  g_autofree char *script = NULL;
  g_autofree char *pid_text = NULL;
  g_autofree char *entries = NULL;
  g_autofree char *staging = NULL;
  guint source;
  int pid;

  g_assert_cmpint (g_mkdir_with_parents (tools, 0700), ==, 0);
  script = write_hanging_qemu_img (tools, pidfile);
  g_setenv ("CASEMENT_QEMU_IMG", script, TRUE);

  casement_vm_store_create_async (store, config, cancellable, store_result, &result);

  /* While "qemu-img" runs, the VM exists only as a hidden staging folder. */
  source = g_timeout_add (10, keep_polling, NULL);
  while (!g_file_test (pidfile, G_FILE_TEST_EXISTS))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (source);

  entries = list_entries (casement_vm_store_get_root (store));
  g_test_message ("While creating: %s", entries);
  g_assert_true (g_regex_match_simple ("^\\.cancelled\\.new-\\w{6}$", entries, 0, 0));
  {
    g_auto(GStrv) slugs = casement_vm_store_list (store, &error);

    g_assert_no_error (error);
    g_assert_null (slugs[0]);
  }

  g_cancellable_cancel (cancellable);
  g_assert_null (casement_vm_store_create_finish (store, wait_for_result (&result), &error));
  g_unsetenv ("CASEMENT_QEMU_IMG");
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_clear_pointer (&entries, g_free);
  entries = list_entries (casement_vm_store_get_root (store));
  g_assert_cmpstr (entries, ==, "");

  g_assert_true (g_file_get_contents (pidfile, &pid_text, NULL, NULL));
  pid = atoi (pid_text);
  g_assert_cmpint (pid, >, 0);
  g_assert_cmpint (kill (pid, 0), ==, -1);
  g_assert_cmpint (errno, ==, ESRCH);
}

static void
test_vm_store_create_cancel_early (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = make_config ("Cancelled");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *entries = NULL;

  /* Cancelled while the staging folder is being made. */
  casement_vm_store_create_async (store, config, cancellable, store_result, &result);
  g_cancellable_cancel (cancellable);
  g_assert_null (casement_vm_store_create_finish (store, wait_for_result (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  entries = list_entries (casement_vm_store_get_root (store));
  g_assert_true (g_str_equal (entries, "") || g_str_equal (entries, "(no folder)"));
}

static void
test_vm_store_delete (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = make_config ("Doomed");
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *entries = NULL;
  char *kept = (char *)"not set";

  slug = create_vm (store, config, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (casement_vm_store_delete (store, slug, FALSE, &kept, &error));
  g_assert_no_error (error);
  g_assert_null (kept);

  entries = list_entries (casement_vm_store_get_root (store));
  g_assert_cmpstr (entries, ==, "");
  g_assert_null (casement_vm_store_lookup (store, "Doomed"));

  g_assert_false (casement_vm_store_delete (store, slug, FALSE, NULL, &error));
  g_assert_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_NOT_FOUND);
}

static void
test_vm_store_delete_keep_disk (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(GError) error = NULL;
  const char *root = casement_vm_store_get_root (store);
  g_autofree char *entries = NULL;
  g_autofree char *expected_first = g_build_filename (root, "keeper.qcow2", NULL);
  g_autofree char *expected_second = g_build_filename (root, "keeper-2.qcow2", NULL);

  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(CasementVmConfig) config = make_config ("Keeper");
      g_auto(CasementQemuImgInfo) info = { 0 };
      g_autofree char *slug = NULL;
      g_autofree char *kept = NULL;
      g_auto(GStrv) slugs = NULL;

      slug = create_vm (store, config, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (slug, ==, "keeper");

      g_assert_true (casement_vm_store_delete (store, slug, TRUE, &kept, &error));
      g_assert_no_error (error);

      /* The second kept disk does not replace the first. */
      g_assert_cmpstr (kept, ==, round == 0 ? expected_first : expected_second);
      g_assert_true (read_info (kept, &info, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (info.virtual_size, ==, 64 * GIB);

      /* Kept disks are not VMs. */
      slugs = casement_vm_store_list (store, &error);
      g_assert_no_error (error);
      g_assert_null (slugs[0]);
    }

  entries = list_entries (root);
  g_assert_cmpstr (entries, ==, "keeper-2.qcow2 keeper.qcow2");
}

static void
test_vm_store_delete_symlinks (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = make_config ("Links");
  g_autoptr(GError) error = NULL;
  g_autofree char *outside = g_build_filename (g_get_user_data_dir (), "outside", NULL);
  g_autofree char *outside_file = g_build_filename (outside, "keep-me.txt", NULL);
  g_autofree char *slug = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *tpm = NULL;
  g_autofree char *state = NULL;
  g_autofree char *link_dir = NULL;
  g_autofree char *link_file = NULL;
  g_autofree char *kept = NULL;

  g_assert_cmpint (g_mkdir_with_parents (outside, 0700), ==, 0);
  g_assert_true (g_file_set_contents (outside_file, "not the VM's", -1, NULL));

  casement_vm_config_set_disk_size (config, 0);
  casement_vm_config_set_disk_path (config, "outside-disk.qcow2");
  slug = create_vm (store, config, NULL, &error);
  g_assert_no_error (error);

  dir = casement_vm_store_dup_vm_dir (store, slug);
  tpm = g_build_filename (dir, "tpm", NULL);
  state = g_build_filename (tpm, "tpm2-00.permall", NULL);
  link_dir = g_build_filename (dir, "linked-folder", NULL);
  g_assert_cmpint (g_mkdir (tpm, 0700), ==, 0);
  g_assert_true (g_file_set_contents (state, "state", -1, NULL));
  g_assert_cmpint (symlink (outside, link_dir), ==, 0);
  /* A disk that is a link to a file elsewhere is moved as a link. */
  link_file = g_build_filename (dir, "outside-disk.qcow2", NULL);
  g_assert_cmpint (symlink (outside_file, link_file), ==, 0);

  g_assert_true (casement_vm_store_delete (store, slug, TRUE, &kept, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (outside_file, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (kept, G_FILE_TEST_IS_SYMLINK));
  g_assert_cmpint (g_unlink (kept), ==, 0);
  g_assert_true (g_file_test (outside_file, G_FILE_TEST_IS_REGULAR));
}

static void
test_vm_store_corrupt (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(CasementVmConfig) replacement = make_config ("Repaired");
  g_autoptr(GError) error = NULL;
  const char *root = casement_vm_store_get_root (store);
  g_autofree char *broken = g_build_filename (root, "broken", NULL);
  g_autofree char *broken_json = g_build_filename (broken, CASEMENT_VM_CONFIG_FILE, NULL);
  g_autofree char *aside = g_strconcat (broken_json, ".corrupt", NULL);
  g_autofree char *empty = g_build_filename (root, "no-config", NULL);
  g_autofree char *hidden = g_build_filename (root, ".old.new-abc123", NULL);
  g_autofree char *hidden_json = g_build_filename (hidden, CASEMENT_VM_CONFIG_FILE, NULL);
  g_autofree char *original = NULL;
  g_autofree char *after = NULL;
  g_autofree char *joined = NULL;
  g_auto(GStrv) slugs = NULL;
  gsize original_length;
  gsize after_length;
  const char *source;

  source = g_test_get_filename (G_TEST_DIST, "data", "config", "corrupt.json", NULL);
  g_assert_true (g_file_get_contents (source, &original, &original_length, NULL));
  g_assert_cmpint (g_mkdir_with_parents (broken, 0700), ==, 0);
  g_assert_true (g_file_set_contents (broken_json, original, original_length, NULL));
  g_assert_cmpint (g_mkdir_with_parents (empty, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (hidden, 0700), ==, 0);
  g_assert_true (g_file_set_contents (hidden_json, "{}", -1, NULL));

  /* Listed, so the user sees it and what is wrong with it. */
  slugs = casement_vm_store_list (store, &error);
  g_assert_no_error (error);
  joined = dup_strv_joined (slugs);
  g_assert_cmpstr (joined, ==, "broken");

  config = casement_vm_store_load (store, "broken", &error);
  g_assert_null (config);
  g_test_message ("%s", error->message);
  g_assert_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, broken_json));
  g_clear_error (&error);

  g_assert_true (g_file_get_contents (broken_json, &after, &after_length, NULL));
  g_assert_cmpmem (original, original_length, after, after_length);
  g_clear_pointer (&after, g_free);

  /* Saving over it keeps the old file aside, byte for byte. */
  g_assert_true (casement_vm_store_save (store, "broken", replacement, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (aside, &after, &after_length, NULL));
  g_assert_cmpmem (original, original_length, after, after_length);
  config = casement_vm_store_load (store, "broken", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (casement_vm_config_get_name (config), ==, "Repaired");

  g_assert_null (casement_vm_store_load (store, "no-config", &error));
  g_assert_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_NOT_FOUND);
}

static void
test_vm_store_newer_schema (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = make_config ("Old");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (casement_vm_store_get_root (store), "future", NULL);
  g_autofree char *path = g_build_filename (dir, CASEMENT_VM_CONFIG_FILE, NULL);
  const char *json = "{\"schema_version\": 2, \"name\": \"Future\", \"cpus\": {\"sockets\": 2}}";
  g_autofree char *after = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, json, -1, NULL));

  g_assert_null (casement_vm_store_load (store, "future", &error));
  g_assert_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* Writing an old format over it would lose what the newer one holds. */
  g_assert_false (casement_vm_store_save (store, "future", config, &error));
  g_assert_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_UNSUPPORTED);
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, json);
}

static void
test_vm_store_save (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) first = make_config ("First");
  g_autoptr(CasementVmConfig) second = make_config ("Second");
  g_autoptr(CasementVmConfig) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *first_slug = NULL;
  g_autofree char *second_slug = NULL;

  casement_vm_config_set_disk_size (first, 0);
  casement_vm_config_set_disk_size (second, 0);
  first_slug = create_vm (store, first, NULL, &error);
  g_assert_no_error (error);
  second_slug = create_vm (store, second, NULL, &error);
  g_assert_no_error (error);

  casement_vm_config_set_installed (second, TRUE);
  g_assert_true (casement_vm_store_save (store, second_slug, second, &error));
  g_assert_no_error (error);
  loaded = casement_vm_store_load (store, second_slug, &error);
  g_assert_no_error (error);
  g_assert_true (casement_vm_config_get_installed (loaded));

  casement_vm_config_set_name (second, "FIRST");
  g_assert_false (casement_vm_store_save (store, second_slug, second, &error));
  g_assert_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_EXISTS);
  g_clear_error (&error);

  g_assert_false (casement_vm_store_save (store, "missing", second, &error));
  g_assert_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_NOT_FOUND);
}

static void
test_vm_store_unsafe_slugs (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  const char *unsafe[] = { "..", ".", "", "../vms", "a/b", ".hidden" };
  g_autofree char *outside = g_build_filename (g_get_user_data_dir (), "casement", CASEMENT_VM_CONFIG_FILE, NULL);

  /* A vm.json just outside the library must stay out of reach. */
  g_assert_cmpint (g_mkdir_with_parents (casement_vm_store_get_root (store), 0700), ==, 0);
  g_assert_true (g_file_set_contents (outside, "{\"schema_version\": 1, \"name\": \"Outside\"}", -1, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (unsafe); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_null (casement_vm_store_load (store, unsafe[i], &error));
      g_assert_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_NOT_FOUND);
      g_clear_error (&error);
      g_assert_false (casement_vm_store_delete (store, unsafe[i], FALSE, NULL, &error));
      g_assert_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_NOT_FOUND);
      g_assert_null (casement_vm_store_lookup (store, unsafe[i]));
    }

  g_assert_true (g_file_test (outside, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (casement_vm_store_get_root (store), G_FILE_TEST_IS_DIR));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/Casement/VmStore/default-root", test_vm_store_default_root);
  g_test_add_func ("/Casement/VmStore/relative-root", test_vm_store_relative_root);
  g_test_add_func ("/Casement/VmStore/slugs", test_vm_store_slugs);
  g_test_add_func ("/Casement/VmStore/create", test_vm_store_create);
  g_test_add_func ("/Casement/VmStore/create-duplicates", test_vm_store_create_duplicates);
  g_test_add_func ("/Casement/VmStore/create-without-disk", test_vm_store_create_without_disk);
  g_test_add_func ("/Casement/VmStore/create-subfolder-disk", test_vm_store_create_subfolder_disk);
  g_test_add_func ("/Casement/VmStore/create-invalid", test_vm_store_create_invalid);
  g_test_add_func ("/Casement/VmStore/create-failure-leaves-nothing", test_vm_store_create_failure_leaves_nothing);
  g_test_add_func ("/Casement/VmStore/create-cancel", test_vm_store_create_cancel);
  g_test_add_func ("/Casement/VmStore/create-cancel-early", test_vm_store_create_cancel_early);
  g_test_add_func ("/Casement/VmStore/delete", test_vm_store_delete);
  g_test_add_func ("/Casement/VmStore/delete-keep-disk", test_vm_store_delete_keep_disk);
  g_test_add_func ("/Casement/VmStore/delete-symlinks", test_vm_store_delete_symlinks);
  g_test_add_func ("/Casement/VmStore/corrupt", test_vm_store_corrupt);
  g_test_add_func ("/Casement/VmStore/newer-schema", test_vm_store_newer_schema);
  g_test_add_func ("/Casement/VmStore/save", test_vm_store_save);
  g_test_add_func ("/Casement/VmStore/unsafe-slugs", test_vm_store_unsafe_slugs);

  return g_test_run ();
}
