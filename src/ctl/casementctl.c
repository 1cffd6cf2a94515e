/* casementctl.c
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

#define G_LOG_DOMAIN "casementctl"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gprintf.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "casement-host.h"
#include "casement-qemu-command.h"
#include "casement-settings.h"
#include "casement-util.h"
#include "casement-vm-config.h"
#include "casement-vm-store.h"
#include "casement-vm.h"

/* Exit codes a shell user expects: 0 done, 1 it failed, 2 the request was
 * wrong (and nothing was changed). */
enum {
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
};

typedef struct
{
  const char *name;
  const char *args;
  const char *summary;
  int       (*run) (int argc, char **argv);
} Command;

static int
fail (int         status,
      const char *format,
      ...) G_GNUC_PRINTF (2, 3);

static int
fail (int         status,
      const char *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("casementctl: %s\n", message);
  return status;
}

/* Errors that describe the request rather than the machine. */
static int
status_for_error (const GError *error)
{
  if (error->domain == CASEMENT_VM_CONFIG_ERROR ||
      g_error_matches (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_EXISTS) ||
      g_error_matches (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_NOT_FOUND) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ||
      g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE) ||
      g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION) ||
      g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED))
    return EXIT_USAGE;

  return EXIT_FAILED;
}

static gboolean
parse_options (GOptionContext   *context,
               int              *argc,
               char           ***argv,
               int               n_positional,
               int              *status)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *status = fail (EXIT_USAGE, "%s", error->message);
      return FALSE;
    }

  /* argv[0] is the command name. */
  if (*argc - 1 != n_positional)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      *status = EXIT_USAGE;
      return FALSE;
    }

  return TRUE;
}

/* The library the app lists: its "vm-folder" preference, when set. */
static CasementVmStore *
open_store (void)
{
  g_autoptr(GSettings) settings = casement_settings_new ();

  return casement_settings_new_vm_store (settings);
}

static char *
lookup_vm (CasementVmStore *store,
           const char      *name,
           int             *status)
{
  char *slug = casement_vm_store_lookup (store, name);

  if (slug == NULL)
    *status = fail (EXIT_USAGE, _("No virtual machine called “%s”; “casementctl list” shows them"), name);

  return slug;
}

/* A path the VM will use must exist, be of the right kind and be readable
 * now, or the user finds out only when the VM fails to start. */
static char *
check_path (const char  *option,
            const char  *path,
            gboolean     want_folder,
            GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);
  g_autofree char *absolute = g_file_get_path (file);

  if (!g_file_test (absolute, G_FILE_TEST_EXISTS))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 _("%s: “%s” does not exist"), option, path);
  else if (want_folder && !g_file_test (absolute, G_FILE_TEST_IS_DIR))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 _("%s: “%s” is a file, not a folder"), option, path);
  else if (!want_folder && !g_file_test (absolute, G_FILE_TEST_IS_REGULAR))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 _("%s: “%s” is not a file"), option, path);
  else if (g_access (absolute, R_OK) != 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 _("%s: “%s” cannot be read (check its permissions)"), option, path);
  else
    return g_steal_pointer (&absolute);

  return NULL;
}

static char *
check_input_file (const char  *option,
                  const char  *path,
                  GError     **error)
{
  return check_path (option, path, FALSE, error);
}

static char *
check_folder (const char  *option,
              const char  *path,
              GError     **error)
{
  return check_path (option, path, TRUE, error);
}

typedef struct
{
  GMainLoop *loop;
  char      *slug;
  GError    *error;
} CreateState;

static void
create_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  CreateState *state = user_data;

  state->slug = casement_vm_store_create_finish (CASEMENT_VM_STORE (object), result, &state->error);
  g_main_loop_quit (state->loop);
}

static int
cmd_create (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CasementVmStore) store = NULL;
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *iso = NULL;
  g_autofree char *drivers = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *share = NULL;
  g_autofree char *memory = NULL;
  g_autofree char *os_id = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  g_autofree char *append = NULL;
  g_autofree char *kernel_path = NULL;
  g_autofree char *initrd_path = NULL;
  g_autofree char *iso_path = NULL;
  g_autofree char *drivers_path = NULL;
  g_autofree char *share_path = NULL;
  CreateState state = { 0 };
  int cpus = 0;
  int status = EXIT_OK;
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("Name of the virtual machine"), N_("NAME") },
    { "iso", 0, 0, G_OPTION_ARG_FILENAME, &iso, N_("Windows installation ISO"), N_("PATH") },
    { "drivers", 0, 0, G_OPTION_ARG_FILENAME, &drivers, N_("virtio-win driver ISO"), N_("PATH") },
    { "disk", 0, 0, G_OPTION_ARG_STRING, &disk, N_("Disk size, e.g. 64G"), N_("SIZE") },
    { "share", 0, 0, G_OPTION_ARG_FILENAME, &share, N_("Host folder to share with the guest"), N_("DIR") },
    { "cpus", 0, 0, G_OPTION_ARG_INT, &cpus, N_("Number of virtual CPUs"), N_("N") },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &memory, N_("Memory size, e.g. 8G"), N_("SIZE") },
    { "os", 0, 0, G_OPTION_ARG_STRING, &os_id, N_("Guest OS: win11 (default), win10, or linux"), N_("ID") },
    { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, N_("Boot this Linux kernel directly (no ISO needed)"), N_("PATH") },
    { "initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, N_("Initial ramdisk for --kernel"), N_("PATH") },
    { "append", 0, 0, G_OPTION_ARG_STRING, &append, N_("Kernel command line for --kernel"), N_("ARGS") },
    { NULL }
  };

  context = g_option_context_new (_("— create a virtual machine"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv, 0, &status))
    return status;

  if (name == NULL || disk == NULL || (kernel == NULL && (iso == NULL || drivers == NULL)))
    return fail (EXIT_USAGE, _("create needs --name, --iso, --drivers and --disk (or --kernel instead of the ISOs)"));

  if ((iso != NULL && !(iso_path = check_input_file ("--iso", iso, &error))) ||
      (drivers != NULL && !(drivers_path = check_input_file ("--drivers", drivers, &error))) ||
      (kernel != NULL && !(kernel_path = check_input_file ("--kernel", kernel, &error))) ||
      (initrd != NULL && !(initrd_path = check_input_file ("--initrd", initrd, &error))) ||
      (share != NULL && !(share_path = check_folder ("--share", share, &error))))
    return fail (EXIT_USAGE, "%s", error->message);

  if ((initrd != NULL || append != NULL) && kernel == NULL)
    return fail (EXIT_USAGE, _("--initrd and --append go with --kernel"));

  config = casement_vm_config_new (name);
  if (os_id != NULL)
    casement_vm_config_set_os_id (config, os_id);

  /* TPM, Secure Boot and the answer file are Windows' needs; a Linux guest
   * booted with --kernel would be refused by Secure Boot. */
  if (!casement_vm_config_is_windows (config))
    {
      casement_vm_config_set_tpm (config, FALSE);
      casement_vm_config_set_secure_boot (config, FALSE);
      casement_vm_config_set_express_install (config, FALSE);
    }
  casement_vm_config_set_install_iso (config, iso_path);
  casement_vm_config_set_drivers_iso (config, drivers_path);
  casement_vm_config_set_kernel (config, kernel_path);
  casement_vm_config_set_initrd (config, initrd_path);
  casement_vm_config_set_kernel_cmdline (config, append);

  {
    guint64 bytes;

    if (!casement_util_parse_size (disk, &bytes, &error))
      return fail (EXIT_USAGE, "--disk: %s", error->message);
    casement_vm_config_set_disk_size (config, bytes);

    if (memory != NULL)
      {
        if (!casement_util_parse_size (memory, &bytes, &error))
          return fail (EXIT_USAGE, "--memory: %s", error->message);
        casement_vm_config_set_memory_mib (config, bytes / (1024 * 1024));
      }
  }

  if (cpus < 0)
    return fail (EXIT_USAGE, _("--cpus: must be a positive number, not %d"), cpus);
  if (cpus > 0)
    casement_vm_config_set_cpus (config, cpus);

  if (share_path != NULL)
    {
      casement_vm_config_set_share_folder (config, share_path);
      casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_AUTO);
    }

  if (!casement_vm_config_validate (config, &error))
    return fail (EXIT_USAGE, "%s", error->message);

  store = open_store ();
  state.loop = g_main_loop_new (NULL, FALSE);
  casement_vm_store_create_async (store, config, NULL, create_cb, &state);
  g_main_loop_run (state.loop);
  g_main_loop_unref (state.loop);

  if (state.error != NULL)
    {
      status = fail (status_for_error (state.error), "%s", state.error->message);
      g_clear_error (&state.error);
      return status;
    }

  g_print (_("Created “%s” (%s)\n"), name, state.slug);
  g_free (state.slug);

  return EXIT_OK;
}

static int
cmd_list (int    argc,
          char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("— list virtual machines"));
  g_autoptr(CasementVmStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) slugs = NULL;
  int status = EXIT_OK;

  if (!parse_options (context, &argc, &argv, 0, &status))
    return status;

  store = open_store ();
  if (!(slugs = casement_vm_store_list (store, &error)))
    return fail (EXIT_FAILED, "%s", error->message);

  for (guint i = 0; slugs[i] != NULL; i++)
    {
      g_autoptr(CasementVmConfig) config = NULL;
      g_autoptr(GError) load_error = NULL;

      if ((config = casement_vm_store_load (store, slugs[i], &load_error)))
        g_print ("%s\t%s\n", slugs[i], casement_vm_config_get_name (config));
      else
        g_print ("%s\t%s\n", slugs[i], load_error->message);
    }

  return EXIT_OK;
}

static int
cmd_show (int    argc,
          char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME — print a virtual machine’s settings as JSON"));
  g_autoptr(CasementVmStore) store = NULL;
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *json = NULL;
  int status = EXIT_OK;

  if (!parse_options (context, &argc, &argv, 1, &status))
    return status;

  store = open_store ();
  if (!(slug = lookup_vm (store, argv[1], &status)))
    return status;

  if (!(config = casement_vm_store_load (store, slug, &error)))
    return fail (EXIT_FAILED, "%s", error->message);

  json = casement_vm_config_to_json (config);
  g_print ("%s\n", json);

  return EXIT_OK;
}

static int
cmd_qemu_args (int    argc,
               char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME — print the QEMU command line, one argument per line"));
  g_autoptr(CasementVmStore) store = NULL;
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(CasementHost) host = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *vm_dir = NULL;
  g_autofree char *runtime_dir = NULL;
  g_auto(GStrv) args = NULL;
  int status = EXIT_OK;

  if (!parse_options (context, &argc, &argv, 1, &status))
    return status;

  store = open_store ();
  if (!(slug = lookup_vm (store, argv[1], &status)))
    return status;

  if (!(config = casement_vm_store_load (store, slug, &error)) ||
      !(host = casement_host_probe (NULL, &error)) ||
      !(runtime_dir = casement_util_dup_vm_runtime_dir (slug, &error)))
    return fail (EXIT_FAILED, "%s", error->message);

  vm_dir = casement_vm_store_dup_vm_dir (store, slug);
  if (!(args = casement_qemu_command_build (config, host, vm_dir, runtime_dir, &error)))
    return fail (EXIT_FAILED, "%s", error->message);

  for (guint i = 0; args[i] != NULL; i++)
    g_print ("%s\n", args[i]);

  return EXIT_OK;
}

static int
cmd_delete (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME — delete a virtual machine"));
  g_autoptr(CasementVmStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *kept = NULL;
  gboolean keep_disk = FALSE;
  int status = EXIT_OK;
  const GOptionEntry entries[] = {
    { "keep-disk", 0, 0, G_OPTION_ARG_NONE, &keep_disk, N_("Keep the disk image next to the library"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv, 1, &status))
    return status;

  store = open_store ();
  if (!(slug = lookup_vm (store, argv[1], &status)))
    return status;

  if (!casement_vm_store_delete (store, slug, keep_disk, &kept, &error))
    return fail (status_for_error (error), "%s", error->message);

  if (kept != NULL)
    g_print (_("Deleted “%s”; its disk is kept at %s\n"), argv[1], kept);
  else
    g_print (_("Deleted “%s”\n"), argv[1]);

  return EXIT_OK;
}

static const char *
vendor_name (CasementCpuVendor vendor)
{
  switch (vendor)
    {
    case CASEMENT_CPU_VENDOR_INTEL:
      return "Intel";
    case CASEMENT_CPU_VENDOR_AMD:
      return "AMD";
    case CASEMENT_CPU_VENDOR_UNKNOWN:
    default:
      return _("unknown");
    }
}

static const char *
or_missing (const char *value)
{
  return value != NULL ? value : _("not found");
}

static int
cmd_host (int    argc,
          char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("— what this machine offers virtual machines"));
  g_autoptr(CasementHost) host = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) problems = NULL;
  gboolean json = FALSE;
  guint major, minor, micro;
  int status = EXIT_OK;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the findings as JSON"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv, 0, &status))
    return status;

  if (!(host = casement_host_probe (NULL, &error)))
    return fail (EXIT_FAILED, "%s", error->message);

  if (json)
    {
      g_autofree char *text = casement_host_to_json (host);

      g_print ("%s\n", text);
      return EXIT_OK;
    }

  casement_host_get_qemu_version (host, &major, &minor, &micro);
  g_print (_("QEMU:        %s (version %u.%u.%u)\n"), casement_host_get_qemu_path (host), major, minor, micro);
  g_print (_("qemu-img:    %s\n"), or_missing (casement_host_get_qemu_img_path (host)));
  g_print (_("CPU:         %s, %u threads\n"), vendor_name (casement_host_get_cpu_vendor (host)),
           casement_host_get_cpu_threads (host));
  {
    /* A format macro inside _() would hide the string from xgettext. */
    g_autofree char *mib = g_strdup_printf ("%" G_GUINT64_FORMAT, casement_host_get_memory_mib (host));

    g_print (_("Memory:      %s MiB\n"), mib);
  }
  if (casement_host_get_kvm_usable (host))
    g_print (_("Accelerator: KVM\n"));
  else
    g_print (_("Accelerator: TCG (software emulation) — %s\n"), casement_host_get_kvm_reason (host));
  g_print (_("Firmware:    %s\n"), or_missing (casement_host_get_firmware_code (host, FALSE)));
  g_print (_("Secure Boot: %s\n"), or_missing (casement_host_get_firmware_code (host, TRUE)));
  g_print (_("TPM:         %s\n"), or_missing (casement_host_get_swtpm_path (host)));
  g_print (_("virtiofsd:   %s\n"), or_missing (casement_host_get_virtiofsd_path (host)));
  g_print (_("smbd:        %s\n"), or_missing (casement_host_get_smbd_path (host)));
  g_print (_("Audio:       %s\n"), casement_host_get_audio_driver (host));

  problems = casement_host_dup_problems (host);
  for (guint i = 0; problems[i] != NULL; i++)
    g_print ("\n%s\n", problems[i]);

  return EXIT_OK;
}

/* Lifecycle commands. They talk to QEMU over its second QMP socket
 * (qmp-cli.sock), so they work while a Casement window holds the first. */

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
await_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *result;
}

/* The VM called @name, followed when it runs. */
static CasementVm *
open_vm (const char *name,
         int        *status)
{
  g_autoptr(CasementVmStore) store = open_store ();
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;

  if (!(slug = lookup_vm (store, name, status)))
    return NULL;

  vm = casement_vm_new_for_cli (store, slug);
  casement_vm_attach_async (vm, NULL, store_result_cb, &result);
  if (!casement_vm_attach_finish (vm, await_result (&result), &error))
    {
      *status = fail (status_for_error (error), "%s", error->message);
      return NULL;
    }

  return g_steal_pointer (&vm);
}

static gboolean
vm_is_live (CasementVm *vm,
            const char *name,
            int        *status)
{
  CasementVmState state = casement_vm_get_state (vm);

  if (state == CASEMENT_VM_STATE_RUNNING || state == CASEMENT_VM_STATE_PAUSED)
    return TRUE;

  *status = fail (EXIT_FAILED, _("“%s” is not running"), name);
  return FALSE;
}

static const char *
state_name (CasementVmState state)
{
  /* Words for scripts: not translated. */
  switch (state)
    {
    case CASEMENT_VM_STATE_STOPPED:
      return "stopped";
    case CASEMENT_VM_STATE_STARTING:
      return "starting";
    case CASEMENT_VM_STATE_RUNNING:
      return "running";
    case CASEMENT_VM_STATE_PAUSED:
      return "paused";
    case CASEMENT_VM_STATE_STOPPING:
      return "stopping";
    case CASEMENT_VM_STATE_CRASHED:
      return "crashed";
    default:
      g_assert_not_reached ();
    }
}

static int
cmd_start (int    argc,
           char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME — start a virtual machine"));
  g_autoptr(CasementVmStore) store = NULL;
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  gboolean wait = FALSE;
  int status = EXIT_OK;
  const GOptionEntry entries[] = {
    { "wait", 0, 0, G_OPTION_ARG_NONE, &wait, N_("Stay until the virtual machine has stopped"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv, 1, &status))
    return status;

  store = open_store ();
  if (!(slug = lookup_vm (store, argv[1], &status)))
    return status;

  vm = casement_vm_new_for_cli (store, slug);
  casement_vm_start_async (vm, NULL, NULL, store_result_cb, &result);
  if (!casement_vm_start_finish (vm, await_result (&result), &error))
    return fail (status_for_error (error), "%s", error->message);

  g_print (_("Started “%s” (QEMU process %d)\n"), argv[1], (int) casement_vm_get_pid (vm));

  if (!wait)
    return EXIT_OK;

  while (casement_vm_get_state (vm) != CASEMENT_VM_STATE_STOPPED &&
         casement_vm_get_state (vm) != CASEMENT_VM_STATE_CRASHED)
    g_main_context_iteration (NULL, TRUE);

  if (casement_vm_get_state (vm) == CASEMENT_VM_STATE_CRASHED)
    return fail (EXIT_FAILED, "%s", casement_vm_get_last_error (vm));

  g_print (_("“%s” has stopped\n"), argv[1]);
  return EXIT_OK;
}

static int
cmd_stop (int    argc,
          char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME — shut a virtual machine down"));
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean force = FALSE;
  int timeout = CASEMENT_VM_DEFAULT_SHUTDOWN_TIMEOUT;
  int status = EXIT_OK;
  const GOptionEntry entries[] = {
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, N_("Turn it off at once, like pulling the plug"), NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, N_("Seconds the guest gets to shut down (default 60)"), N_("S") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv, 1, &status))
    return status;

  if (timeout <= 0)
    return fail (EXIT_USAGE, _("--timeout: must be a positive number of seconds, not %d"), timeout);

  if (!(vm = open_vm (argv[1], &status)))
    return status;

  if (!vm_is_live (vm, argv[1], &status) &&
      !(force && casement_vm_get_state (vm) == CASEMENT_VM_STATE_STOPPING))
    return status;

  if (force)
    {
      casement_vm_force_off_async (vm, NULL, store_result_cb, &result);
      if (!casement_vm_force_off_finish (vm, await_result (&result), &error))
        return fail (status_for_error (error), "%s", error->message);
      g_print (_("“%s” was turned off\n"), argv[1]);
      return EXIT_OK;
    }

  casement_vm_shutdown_async (vm, timeout, NULL, store_result_cb, &result);
  if (!casement_vm_shutdown_finish (vm, await_result (&result), &error))
    {
      if (g_error_matches (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_TIMEOUT))
        return fail (EXIT_FAILED, _("%s (casementctl stop --force “%s”)"), error->message, argv[1]);
      return fail (status_for_error (error), "%s", error->message);
    }

  g_print (_("“%s” has shut down\n"), argv[1]);
  return EXIT_OK;
}

static int
cmd_pause_resume (int      argc,
                  char   **argv,
                  gboolean pause)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  int status = EXIT_OK;
  gboolean ok;

  context = g_option_context_new (pause ? _("NAME — pause a virtual machine")
                                        : _("NAME — let a paused virtual machine run on"));
  if (!parse_options (context, &argc, &argv, 1, &status))
    return status;

  if (!(vm = open_vm (argv[1], &status)) || !vm_is_live (vm, argv[1], &status))
    return status;

  if (pause)
    {
      casement_vm_pause_async (vm, NULL, store_result_cb, &result);
      ok = casement_vm_pause_finish (vm, await_result (&result), &error);
    }
  else
    {
      casement_vm_resume_async (vm, NULL, store_result_cb, &result);
      ok = casement_vm_resume_finish (vm, await_result (&result), &error);
    }

  if (!ok)
    return fail (status_for_error (error), "%s", error->message);

  return EXIT_OK;
}

static int
cmd_pause (int    argc,
           char **argv)
{
  return cmd_pause_resume (argc, argv, TRUE);
}

static int
cmd_resume (int    argc,
            char **argv)
{
  return cmd_pause_resume (argc, argv, FALSE);
}

static int
cmd_status (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME — print whether a virtual machine runs"));
  g_autoptr(CasementVm) vm = NULL;
  int status = EXIT_OK;

  if (!parse_options (context, &argc, &argv, 1, &status))
    return status;

  if (!(vm = open_vm (argv[1], &status)))
    return status;

  /* The state comes from QEMU itself (query-status), not from a guess. */
  g_print ("%s\n", state_name (casement_vm_get_state (vm)));
  if (casement_vm_get_last_error (vm) != NULL)
    g_printerr ("%s\n", casement_vm_get_last_error (vm));

  return EXIT_OK;
}

static int
cmd_screenshot (int    argc,
                char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME FILE — save the guest’s screen as a PNG"));
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  int status = EXIT_OK;

  if (!parse_options (context, &argc, &argv, 2, &status))
    return status;

  if (!(vm = open_vm (argv[1], &status)) || !vm_is_live (vm, argv[1], &status))
    return status;

  file = g_file_new_for_commandline_arg (argv[2]);
  path = g_file_get_path (file);
  casement_vm_screendump_async (vm, path, NULL, store_result_cb, &result);
  if (!casement_vm_screendump_finish (vm, await_result (&result), &error))
    return fail (status_for_error (error), "%s", error->message);

  return EXIT_OK;
}

static int
cmd_snapshot (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME create|list|revert|delete [TAG] — manage snapshots"));
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *action;
  int status = EXIT_OK;
  gboolean list;
  gboolean ok;

  list = argc >= 3 && g_str_equal (argv[2], "list");
  if (!parse_options (context, &argc, &argv, list ? 2 : 3, &status))
    return status;

  action = argv[2];
  if (!list && !g_str_equal (action, "create") && !g_str_equal (action, "revert") &&
      !g_str_equal (action, "delete"))
    return fail (EXIT_USAGE, _("“%s” is not a snapshot action: use create, list, revert or delete"), action);

  if (!(vm = open_vm (argv[1], &status)) || !vm_is_live (vm, argv[1], &status))
    return status;

  if (list)
    {
      g_autoptr(GPtrArray) snapshots = NULL;

      casement_vm_snapshot_list_async (vm, NULL, store_result_cb, &result);
      if (!(snapshots = casement_vm_snapshot_list_finish (vm, await_result (&result), &error)))
        return fail (status_for_error (error), "%s", error->message);

      for (guint i = 0; i < snapshots->len; i++)
        {
          CasementVmSnapshot *snapshot = g_ptr_array_index (snapshots, i);
          g_autoptr(GDateTime) date = g_date_time_new_from_unix_local (snapshot->date_unix);
          g_autofree char *when = date ? g_date_time_format (date, "%F %T") : g_strdup ("?");
          g_autofree char *size = g_format_size (snapshot->vm_state_size);

          g_print ("%s\t%s\t%s\n", snapshot->name, when, size);
        }
      return EXIT_OK;
    }

  if (g_str_equal (action, "create"))
    {
      casement_vm_snapshot_create_async (vm, argv[3], NULL, store_result_cb, &result);
      ok = casement_vm_snapshot_create_finish (vm, await_result (&result), &error);
    }
  else if (g_str_equal (action, "revert"))
    {
      casement_vm_snapshot_revert_async (vm, argv[3], NULL, store_result_cb, &result);
      ok = casement_vm_snapshot_revert_finish (vm, await_result (&result), &error);
    }
  else
    {
      casement_vm_snapshot_delete_async (vm, argv[3], NULL, store_result_cb, &result);
      ok = casement_vm_snapshot_delete_finish (vm, await_result (&result), &error);
    }

  if (!ok)
    return fail (status_for_error (error), "%s", error->message);

  return EXIT_OK;
}

static int
cmd_qmp (int    argc,
         char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME JSON — send one QMP command, e.g. '{\"execute\": \"query-status\"}'"));
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) request = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autofree char *text = NULL;
  CasementQmpClient *qmp;
  JsonObject *object;
  JsonNode *arguments;
  const char *execute;
  int status = EXIT_OK;

  if (!parse_options (context, &argc, &argv, 2, &status))
    return status;

  if (!(request = json_from_string (argv[2], &error)))
    return fail (EXIT_USAGE, _("The QMP command is not JSON: %s"), error->message);

  if (!JSON_NODE_HOLDS_OBJECT (request) ||
      !(execute = json_object_get_string_member_with_default (object = json_node_get_object (request),
                                                               "execute", NULL)))
    return fail (EXIT_USAGE, _("The QMP command must be an object with “execute”, e.g. '{\"execute\": \"query-status\"}'"));

  arguments = json_object_get_member (object, "arguments");
  if (arguments != NULL && !JSON_NODE_HOLDS_OBJECT (arguments))
    return fail (EXIT_USAGE, _("The QMP command’s “arguments” must be an object"));

  if (!(vm = open_vm (argv[1], &status)) || !vm_is_live (vm, argv[1], &status))
    return status;

  qmp = casement_vm_get_qmp_client (vm);
  casement_qmp_client_execute_async (qmp, execute, arguments, NULL, store_result_cb, &result);
  if (!(reply = casement_qmp_client_execute_finish (qmp, await_result (&result), &error)))
    return fail (EXIT_FAILED, "%s", error->message);

  text = json_to_string (reply, TRUE);
  g_print ("%s\n", text);
  return EXIT_OK;
}

static const Command commands[] = {
  { "create", "--name N --iso PATH --drivers PATH --disk SIZE [--share DIR] [--cpus N] [--memory SIZE] [--os ID]",
    N_("Create a virtual machine"), cmd_create },
  { "list", "", N_("List virtual machines"), cmd_list },
  { "show", "NAME", N_("Print a virtual machine’s settings as JSON"), cmd_show },
  { "qemu-args", "NAME", N_("Print the QEMU command line, one argument per line"), cmd_qemu_args },
  { "delete", "NAME [--keep-disk]", N_("Delete a virtual machine"), cmd_delete },
  { "host", "[--json]", N_("Show what this machine offers virtual machines"), cmd_host },
  { "start", "NAME [--wait]", N_("Start a virtual machine"), cmd_start },
  { "stop", "NAME [--force] [--timeout S]", N_("Shut a virtual machine down"), cmd_stop },
  { "pause", "NAME", N_("Pause a virtual machine"), cmd_pause },
  { "resume", "NAME", N_("Let a paused virtual machine run on"), cmd_resume },
  { "status", "NAME", N_("Print whether a virtual machine runs"), cmd_status },
  { "screenshot", "NAME FILE", N_("Save the guest’s screen as a PNG"), cmd_screenshot },
  { "snapshot", "NAME create|list|revert|delete [TAG]", N_("Manage snapshots"), cmd_snapshot },
  { "qmp", "NAME JSON", N_("Send one QMP command and print the reply"), cmd_qmp },
};

static void
print_usage (FILE *stream)
{
  g_fprintf (stream, "%s\n", _("Usage: casementctl COMMAND [ARGUMENTS…]"));
  g_fprintf (stream, "\n%s\n", _("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_fprintf (stream, "  %-10s %s\n  %-10s   %s\n",
               commands[i].name, _(commands[i].summary), "", commands[i].args);
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    {
      print_usage (stderr);
      return EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      print_usage (stdout);
      return EXIT_OK;
    }

  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("casementctl %s\n", PACKAGE_VERSION);
      return EXIT_OK;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (g_str_equal (argv[1], commands[i].name))
        return commands[i].run (argc - 1, argv + 1);
    }

  return fail (EXIT_USAGE, _("“%s” is not a command; “casementctl --help” lists them"), argv[1]);
}
