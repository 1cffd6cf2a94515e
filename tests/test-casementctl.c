/* test-casementctl.c
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

/* casementctl end to end: the real binary, a private XDG_DATA_HOME, real
 * qemu-img underneath, as a shell user would drive it. */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "casement-test-util.h"

typedef struct
{
  char *home;      /* temporary XDG_DATA_HOME and friends */
  char *media;     /* a folder holding the install media */
  char *iso;
  char *drivers;
} Fixture;

typedef struct
{
  int   status;
  char *out;
  char *err;
} Result;

static void
result_clear (Result *result)
{
  g_clear_pointer (&result->out, g_free);
  g_clear_pointer (&result->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static void
write_file (const char *path,
            const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data_home = NULL;
  g_autofree char *runtime = NULL;

  fixture->home = g_dir_make_tmp ("casementctl-XXXXXX", &error);
  g_assert_no_error (error);

  data_home = g_build_filename (fixture->home, "data", NULL);
  runtime = g_build_filename (fixture->home, "run", NULL);
  g_assert_cmpint (g_mkdir (data_home, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (runtime, 0700), ==, 0);

  /* A comma and spaces in every path: QEMU's option syntax must cope. */
  fixture->media = g_build_filename (fixture->home, "My Media, Ünïcödé", NULL);
  g_assert_cmpint (g_mkdir (fixture->media, 0700), ==, 0);
  fixture->iso = g_build_filename (fixture->media, "Win 11, x64.iso", NULL);
  fixture->drivers = g_build_filename (fixture->media, "virtio-win.iso", NULL);
  write_file (fixture->iso, "not really an ISO, but a readable file");
  write_file (fixture->drivers, "not really an ISO, but a readable file");
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  casement_test_remove_tree (fixture->home);
  g_free (fixture->home);
  g_free (fixture->media);
  g_free (fixture->iso);
  g_free (fixture->drivers);
}

static Result
run_ctl (Fixture    *fixture,
         const char *first,
         ...)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *data_home = g_build_filename (fixture->home, "data", NULL);
  g_autofree char *runtime = g_build_filename (fixture->home, "run", NULL);
  Result result = { 0 };
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("CASEMENTCTL"));
  va_start (args, first);
  for (arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", runtime, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "LANGUAGE");

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &result.out, &result.err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  result.status = g_subprocess_get_exit_status (process);

  g_test_message ("casementctl %s… → %d\nstdout: %s\nstderr: %s",
                  first, result.status, result.out, result.err);

  return result;
}

/* What the library folder holds, as one string, to prove a refused request
 * changed nothing. */
static char *
library_listing (Fixture *fixture)
{
  g_autofree char *vms = g_build_filename (fixture->home, "data", "casement", "vms", NULL);
  g_autoptr(GDir) dir = g_dir_open (vms, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return g_strdup ("");

  while ((name = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);

  return g_strjoinv ("\n", (char **) names->pdata);
}

static void
assert_refused (Fixture    *fixture,
                Result     *result,
                const char *before,
                const char *message_part)
{
  g_autofree char *after = library_listing (fixture);

  g_assert_cmpint (result->status, ==, 2);
  g_assert_true (g_str_has_prefix (result->err, "casementctl: "));
  /* One line, naming the problem. */
  g_assert_cmpint (strlen (result->err) - 1, ==, strcspn (result->err, "\n"));
  g_assert_nonnull (strstr (result->err, message_part));
  g_assert_cmpstr (before, ==, after);
}

static gboolean
args_contain (char      **lines,
              const char *needle)
{
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], needle) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_create_show_args_delete (Fixture       *fixture,
                              gconstpointer  data)
{
  g_auto(Result) create = run_ctl (fixture, "create", "--name", "Windows 11", "--iso", fixture->iso,
                                   "--drivers", fixture->drivers, "--disk", "64G", "--share",
                                   fixture->media, NULL);
  g_auto(Result) list = { 0 };
  g_auto(Result) show = { 0 };
  g_auto(Result) args = { 0 };
  g_auto(Result) del = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *escaped_iso = NULL;
  g_autofree char *listing = NULL;
  JsonObject *object;

  g_assert_cmpint (create.status, ==, 0);

  list = run_ctl (fixture, "list", NULL);
  g_assert_cmpint (list.status, ==, 0);
  g_assert_cmpstr (list.out, ==, "windows-11\tWindows 11\n");

  show = run_ctl (fixture, "show", "Windows 11", NULL);
  g_assert_cmpint (show.status, ==, 0);
  json_parser_load_from_data (parser, show.out, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, "Windows 11");
  g_assert_cmpstr (json_object_get_string_member (object, "install_iso"), ==, fixture->iso);
  g_assert_cmpint (json_object_get_int_member (object, "schema_version"), >=, 1);
  /* The password of an express install never reaches vm.json. */
  g_assert_null (strstr (show.out, "password"));

  /* A real qcow2 disk was made. */
  disk = g_build_filename (fixture->home, "data", "casement", "vms", "windows-11", "disk.qcow2", NULL);
  g_assert_true (g_file_test (disk, G_FILE_TEST_IS_REGULAR));

  args = run_ctl (fixture, "qemu-args", "windows-11", NULL);
  g_assert_cmpint (args.status, ==, 0);
  lines = g_strsplit (args.out, "\n", -1);
  g_assert_true (args_contain (lines, "q35"));
  g_assert_true (args_contain (lines, "smm=on"));
  g_assert_true (args_contain (lines, "OVMF_CODE_4M.ms.fd"));
  g_assert_true (args_contain (lines, "efivars.qcow2"));
  g_assert_true (args_contain (lines, "property=secure,value=on"));
  g_assert_true (args_contain (lines, "tpm-crb"));
  g_assert_true (args_contain (lines, "virtio-blk-pci"));
  g_assert_true (args_contain (lines, "discard=unmap"));
  g_assert_true (args_contain (lines, "virtio-net-pci"));
  g_assert_true (args_contain (lines, "virtio-balloon-pci"));
  g_assert_true (args_contain (lines, "qxl-vga"));
  g_assert_true (args_contain (lines, "unix=on"));
  g_assert_true (args_contain (lines, "spice.sock"));
  g_assert_true (args_contain (lines, "qmp.sock"));
  g_assert_true (args_contain (lines, "qmp-cli.sock"));
  g_assert_true (args_contain (lines, "usb-tablet"));
  g_assert_true (args_contain (lines, "ich9-intel-hda"));
  g_assert_true (args_contain (lines, "rtc"));
  /* KVM is unusable on the test machines, so TCG without Hyper-V flags;
   * where KVM works, the Hyper-V flags must be there instead. */
  if (args_contain (lines, "tcg"))
    {
      g_assert_false (args_contain (lines, "hv_"));
      g_assert_true (args_contain (lines, "max"));
    }
  else
    {
      g_assert_true (args_contain (lines, "hv_relaxed"));
    }
  /* The comma in the ISO's path is doubled for QEMU's option syntax. */
  escaped_iso = g_strjoinv (",,", (char *[]) { "Win 11", " x64.iso", NULL });
  g_assert_true (args_contain (lines, escaped_iso));

  del = run_ctl (fixture, "delete", "Windows 11", NULL);
  g_assert_cmpint (del.status, ==, 0);
  listing = library_listing (fixture);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_bad_input (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (fixture->media, "nope.iso", NULL);
  g_autofree char *before = NULL;

  {
    g_auto(Result) ok = run_ctl (fixture, "create", "--name", "First", "--iso", fixture->iso,
                                 "--drivers", fixture->drivers, "--disk", "64G", NULL);
    g_assert_cmpint (ok.status, ==, 0);
  }

  before = library_listing (fixture);

  {
    g_auto(Result) r = run_ctl (fixture, "create", "--name", "X", "--iso", missing,
                                "--drivers", fixture->drivers, "--disk", "64G", NULL);
    assert_refused (fixture, &r, before, "does not exist");
  }
  {
    g_auto(Result) r = run_ctl (fixture, "create", "--name", "X", "--iso", fixture->iso,
                                "--drivers", fixture->drivers, "--disk", "lots", NULL);
    assert_refused (fixture, &r, before, "--disk");
  }
  {
    g_auto(Result) r = run_ctl (fixture, "create", "--name", "X", "--iso", fixture->iso,
                                "--drivers", fixture->drivers, "--disk", "32G", NULL);
    assert_refused (fixture, &r, before, "64");
  }
  {
    g_auto(Result) r = run_ctl (fixture, "create", "--name", "first", "--iso", fixture->iso,
                                "--drivers", fixture->drivers, "--disk", "64G", NULL);
    assert_refused (fixture, &r, before, "first");
  }
  {
    g_auto(Result) r = run_ctl (fixture, "create", "--name", "X", "--iso", fixture->iso,
                                "--drivers", fixture->drivers, "--disk", "64G",
                                "--share", fixture->iso, NULL);
    assert_refused (fixture, &r, before, "not a folder");
  }
  {
    g_auto(Result) r = run_ctl (fixture, "create", "--name", "X", "--iso", fixture->iso,
                                "--drivers", fixture->drivers, "--disk", "64G", "--cpus", "many", NULL);
    assert_refused (fixture, &r, before, "many");
  }
  {
    g_auto(Result) r = run_ctl (fixture, "create", "--name", "X", "--iso", fixture->iso, NULL);
    assert_refused (fixture, &r, before, "--drivers");
  }
  {
    g_auto(Result) r = run_ctl (fixture, "show", "Nobody", NULL);
    assert_refused (fixture, &r, before, "Nobody");
  }
  {
    g_auto(Result) r = run_ctl (fixture, "delete", "Nobody", NULL);
    assert_refused (fixture, &r, before, "Nobody");
  }
  {
    g_auto(Result) r = run_ctl (fixture, "frobnicate", NULL);
    assert_refused (fixture, &r, before, "frobnicate");
  }
}

static void
test_non_ascii_name (Fixture       *fixture,
                     gconstpointer  data)
{
  g_auto(Result) create = run_ctl (fixture, "create", "--name", "测试 机器", "--iso", fixture->iso,
                                   "--drivers", fixture->drivers, "--disk", "80 GiB",
                                   "--memory", "6G", "--cpus", "3", NULL);
  g_auto(Result) show = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  g_assert_cmpint (create.status, ==, 0);

  show = run_ctl (fixture, "show", "测试 机器", NULL);
  g_assert_cmpint (show.status, ==, 0);
  json_parser_load_from_data (parser, show.out, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, "测试 机器");
  g_assert_cmpint (json_object_get_int_member (object, "cpus"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (object, "memory_mib"), ==, 6144);
}

static void
test_host (Fixture       *fixture,
           gconstpointer  data)
{
  g_auto(Result) human = run_ctl (fixture, "host", NULL);
  g_auto(Result) json = run_ctl (fixture, "host", "--json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (human.status, ==, 0);
  g_assert_nonnull (strstr (human.out, "QEMU"));
  g_assert_cmpint (json.status, ==, 0);
  json_parser_load_from_data (parser, json.out, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/Casement/Ctl/create-show-args-delete", Fixture, NULL,
              fixture_setup, test_create_show_args_delete, fixture_teardown);
  g_test_add ("/Casement/Ctl/bad-input", Fixture, NULL,
              fixture_setup, test_bad_input, fixture_teardown);
  g_test_add ("/Casement/Ctl/non-ascii-name", Fixture, NULL,
              fixture_setup, test_non_ascii_name, fixture_teardown);
  g_test_add ("/Casement/Ctl/host", Fixture, NULL,
              fixture_setup, test_host, fixture_teardown);

  return g_test_run ();
}
