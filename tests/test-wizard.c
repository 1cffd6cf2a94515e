/* test-wizard.c
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

#include <gdk/x11/gdkx.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "casement-iso.h"
#include "casement-library.h"
#include "casement-qemu-command.h"
#include "casement-test-guest.h"
#include "casement-test-media.h"
#include "casement-test-util.h"
#include "casement-unattend.h"
#include "casement-vm.h"
#include "casement-wizard.h"

/* The wizard driven as a user would, under a real X server: discs made
 * by xorriso, the host probed for real, the VM created by the real store
 * (qemu-img) and started by the real QEMU under TCG. */

#define CHECK_TIMEOUT_S  60
#define START_TIMEOUT_S  180

#define GIB (G_GUINT64_CONSTANT (1) << 30)

static CasementTestGuestEnv *env;
static CasementHost *host;
static CasementLibrary *library;
static GtkApplication *app;
static GtkWindow *parent;
static GSubprocess *xvfb;
static char *discs_dir;
static char *win11_iso;          /* a label only: libosinfo has to guess */
static char *editions_iso;       /* with an install.wim listing three editions */
static char *missing_wim_tool;
static char *virtio_iso;
static char *screenshot_dir;
static char *import_path;      /* ImageMagick's, for screenshots; NULL skips them */
static char *opened_slug;

/* ---- The application -------------------------------------------------- */

static void
record_open_vm (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  g_free (opened_slug);
  opened_slug = g_variant_dup_string (param, NULL);
}

static const GActionEntry app_actions[] = {
  { "open-vm", record_open_vm, "s" },
};

/* ---- Waiting ------------------------------------------------------------ */

static gboolean
wizard_idle (gpointer data)
{
  return !casement_wizard_is_busy (data);
}

static gboolean
creation_over (gpointer data)
{
  CasementWizardState state = casement_wizard_get_state (data);

  return state == CASEMENT_WIZARD_STATE_FAILED || state == CASEMENT_WIZARD_STATE_DONE ||
         state == CASEMENT_WIZARD_STATE_START_FAILED;
}

/* Destroyed: no longer one of GTK's windows. */
static gboolean
window_gone (gpointer data)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (window == data)
        return FALSE;
    }

  return TRUE;
}

/* ---- The wizard --------------------------------------------------------- */

static gpointer
child (CasementWizard *wizard,
       const char     *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (wizard), CASEMENT_TYPE_WIZARD, name);

  g_assert_nonnull (object);
  return object;
}

static CasementWizard *
wizard_new (int         width,
            int         height,
            CasementHost *with_host)
{
  CasementWizard *wizard = casement_wizard_new (parent, library, with_host);

  g_object_ref_sink (wizard);
  gtk_window_set_default_size (GTK_WINDOW (wizard), width, height);
  gtk_window_present (GTK_WINDOW (wizard));
  CASEMENT_TEST_WAIT_UNTIL (wizard_idle (wizard), CHECK_TIMEOUT_S, "the wizard's first checks");
  casement_test_spin (200);

  return wizard;
}

static void
wizard_close (CasementWizard *wizard)
{
  gtk_window_destroy (GTK_WINDOW (wizard));
  g_assert_finalize_object (wizard);
}

static void
set_file (CasementWizard *wizard,
          void          (*setter) (CasementWizard *, GFile *),
          const char     *path)
{
  g_autoptr(GFile) file = path != NULL ? g_file_new_for_path (path) : NULL;

  setter (wizard, file);
  CASEMENT_TEST_WAIT_UNTIL (wizard_idle (wizard), CHECK_TIMEOUT_S, "the wizard's checks");
}

static void
type (CasementWizard *wizard,
      const char     *field,
      const char     *text)
{
  gtk_editable_set_text (GTK_EDITABLE (child (wizard, field)), text);
  CASEMENT_TEST_WAIT_UNTIL (wizard_idle (wizard), CHECK_TIMEOUT_S, "the wizard's checks");
}

/* A click, at once: gtk_widget_activate() on a button clicks it a
 * quarter second later, by which time the button may have changed. */
static void
click (CasementWizard *wizard,
       const char     *button)
{
  g_signal_emit_by_name (child (wizard, button), "clicked");
}

/* Clicks Next (Create on the summary) and says whether the page changed. */
static gboolean
press_next (CasementWizard *wizard)
{
  CasementWizardPage page = casement_wizard_get_page (wizard);

  click (wizard, "next_button");
  return casement_wizard_get_page (wizard) != page;
}

static void
go_to (CasementWizard     *wizard,
       CasementWizardPage  page)
{
  while (casement_wizard_get_page (wizard) < page)
    {
      if (!press_next (wizard))
        g_error ("Stuck on page %d: %s", casement_wizard_get_page (wizard),
                 casement_wizard_get_blocker (wizard));
    }
}

/* Next is off, the reason (holding @needle) is shown next to it, and
 * clicking it anyway goes nowhere. */
static void
assert_blocked (CasementWizard *wizard,
                const char     *needle)
{
  GtkLabel *reason = child (wizard, "next_reason");
  const char *blocker = casement_wizard_get_blocker (wizard);

  g_assert_nonnull (blocker);
  g_assert_false (gtk_widget_get_sensitive (child (wizard, "next_button")));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (reason)));
  g_assert_cmpstr (gtk_label_get_text (reason), ==, blocker);
  if (strstr (blocker, needle) == NULL)
    g_error ("The reason “%s” does not say “%s”", blocker, needle);
  g_assert_false (press_next (wizard));
}

static void
assert_open (CasementWizard *wizard)
{
  if (casement_wizard_get_blocker (wizard) != NULL)
    g_error ("Next is blocked: %s", casement_wizard_get_blocker (wizard));
  g_assert_true (gtk_widget_get_sensitive (child (wizard, "next_button")));
  g_assert_cmpstr (gtk_label_get_text (child (wizard, "next_reason")), ==, "");
}

/* A field marked wrong, its error icon telling why. */
static void
assert_field_problem (CasementWizard *wizard,
                      const char     *row,
                      const char     *icon,
                      const char     *needle)
{
  GtkWidget *icon_widget = child (wizard, icon);
  const char *tooltip = gtk_widget_get_tooltip_text (icon_widget);

  g_assert_true (gtk_widget_has_css_class (child (wizard, row), "error"));
  g_assert_true (gtk_widget_get_visible (icon_widget));
  g_assert_nonnull (tooltip);
  if (strstr (tooltip, needle) == NULL)
    g_error ("The problem “%s” of %s does not say “%s”", tooltip, row, needle);
}

static void
assert_label_says (CasementWizard *wizard,
                   const char     *label,
                   const char     *needle)
{
  GtkLabel *widget = child (wizard, label);

  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (widget)));
  if (strstr (gtk_label_get_text (widget), needle) == NULL)
    g_error ("%s says “%s”, not “%s”", label, gtk_label_get_text (widget), needle);
}

static void
subprocess_done_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *(gboolean *) user_data = TRUE;
}

/* The wizard as the X server shows it, as a PNG (ImageMagick's import). */
static void
screenshot (gpointer    window,
            const char *name)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *file_name = NULL;
  g_autofree char *path = NULL;
  g_autofree char *xid = NULL;
  GdkSurface *surface;
  gboolean done = FALSE;

  if (import_path == NULL)
    return;

  casement_test_spin (200);

  surface = gtk_native_get_surface (GTK_NATIVE (window));
  xid = g_strdup_printf ("0x%lx", (gulong) gdk_x11_surface_get_xid (surface));
  file_name = g_strdup_printf ("%s-%dx%d.png", name, gdk_surface_get_width (surface),
                               gdk_surface_get_height (surface));
  path = g_build_filename (screenshot_dir, file_name, NULL);

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                              import_path, "-window", xid, path, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (process, NULL, subprocess_done_cb, &done);
  CASEMENT_TEST_WAIT_UNTIL (done, CHECK_TIMEOUT_S, "import");
  g_assert_true (g_subprocess_get_successful (process));
  g_test_message ("Screenshot: %s", path);
}

/* The question Cancel asks before data is thrown away. */
static AdwMessageDialog *
find_confirm_dialog (CasementWizard *wizard)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) &&
          gtk_window_get_transient_for (GTK_WINDOW (window)) == GTK_WINDOW (wizard))
        return ADW_MESSAGE_DIALOG (window);
    }

  g_error ("The wizard asked nothing");
}

/* ---- The library -------------------------------------------------------- */

static char **
list_vms (void)
{
  g_autoptr(GError) error = NULL;
  char **slugs = casement_vm_store_list (casement_library_get_store (library), &error);

  g_assert_no_error (error);
  return slugs;
}

/* Nothing in the library folder but VM folders: no staging folder left. */
static void
assert_library_holds (guint n_vms)
{
  const char *root = casement_vm_store_get_root (casement_library_get_store (library));
  g_auto(GStrv) slugs = list_vms ();
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint n_entries = 0;

  g_assert_cmpuint (g_strv_length (slugs), ==, n_vms);

  if (!(dir = g_dir_open (root, 0, NULL)))
    {
      g_assert_cmpuint (n_vms, ==, 0);
      return;
    }

  while ((name = g_dir_read_name (dir)))
    {
      g_test_message ("library holds %s", name);
      n_entries++;
    }
  g_assert_cmpuint (n_entries, ==, n_vms);
}

static void
store_created_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  char **slug = user_data;
  g_autoptr(GError) error = NULL;

  *slug = casement_vm_store_create_finish (CASEMENT_VM_STORE (object), result, &error);
  g_assert_no_error (error);
}

/* A VM without a disk, there to take its name. */
static char *
add_vm_named (const char *name)
{
  g_autoptr(CasementVmConfig) config = casement_vm_config_new (name);
  char *slug = NULL;

  casement_vm_config_set_disk_size (config, 0);
  casement_vm_store_create_async (casement_library_get_store (library), config, NULL,
                                  store_created_cb, &slug);
  CASEMENT_TEST_WAIT_UNTIL (slug != NULL, CHECK_TIMEOUT_S, "a VM in the store");
  return slug;
}

static void
delete_vm (const char *slug)
{
  g_autoptr(GError) error = NULL;

  casement_vm_store_delete (casement_library_get_store (library), slug, FALSE, NULL, &error);
  g_assert_no_error (error);
}

/* ---- Test cases --------------------------------------------------------- */

static void
test_wizard_first_page (void)
{
  CasementWizard *wizard = wizard_new (1280, 800, NULL);
  g_autofree char *text = g_build_filename (discs_dir, "notes.iso", NULL);
  g_autofree char *debian = NULL;
  g_autofree char *missing = g_build_filename (discs_dir, "no-such.iso", NULL);
  g_autofree char *dir = g_build_filename (discs_dir, "debian", NULL);
  g_autoptr(GError) error = NULL;
  AdwMessageDialog *dialog;

  /* The host was probed by the wizard itself. */
  g_assert_false (casement_wizard_is_busy (wizard));
  g_assert_cmpint (casement_wizard_get_page (wizard), ==, CASEMENT_WIZARD_PAGE_INSTALL_MEDIA);
  g_assert_cmpint (casement_wizard_get_state (wizard), ==, CASEMENT_WIZARD_STATE_EDITING);
  assert_blocked (wizard, "Choose a Windows installation ISO");
  g_assert_false (gtk_widget_get_visible (child (wizard, "back_button")));

  /* Not an ISO at all */
  g_file_set_contents (text, "shopping list\n", -1, &error);
  g_assert_no_error (error);
  set_file (wizard, casement_wizard_set_install_iso, text);
  assert_blocked (wizard, "cannot be used");
  assert_label_says (wizard, "install_error", "notes.iso");
  g_assert_false (gtk_widget_get_visible (child (wizard, "install_details")));
  screenshot (wizard, "1-install-media-not-iso");

  /* An ISO, but not Windows */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  debian = casement_test_media_make_labelled_iso (dir, "debian.iso", "Debian 12.0.0 amd64 n", NULL, TRUE, &error);
  g_assert_no_error (error);
  set_file (wizard, casement_wizard_set_install_iso, debian);
  assert_blocked (wizard, "cannot be used");
  assert_label_says (wizard, "install_error", "Windows");

  /* Gone */
  set_file (wizard, casement_wizard_set_install_iso, missing);
  assert_blocked (wizard, "cannot be used");
  assert_label_says (wizard, "install_error", "no-such.iso");

  /* Windows 11: details shown, with the guess libosinfo had to make */
  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  assert_open (wizard);
  g_assert_false (gtk_widget_get_visible (child (wizard, "install_error")));
  g_assert_true (gtk_widget_get_visible (child (wizard, "install_details")));
  g_assert_cmpstr (adw_action_row_get_subtitle (child (wizard, "install_name_row")), ==, "Microsoft Windows 11");
  g_assert_cmpstr (adw_action_row_get_subtitle (child (wizard, "install_arch_row")), ==, "x86_64");
  assert_label_says (wizard, "install_warning", "win10");
  assert_label_says (wizard, "install_warning", "win11");
  screenshot (wizard, "1-install-media");

  /* A disc with its list of editions: no guess, and a choice of edition */
  if (editions_iso != NULL)
    {
      AdwComboRow *images = child (wizard, "install_image_row");

      set_file (wizard, casement_wizard_set_install_iso, editions_iso);
      assert_open (wizard);
      g_assert_false (gtk_widget_get_visible (child (wizard, "install_warning")));
      g_assert_true (gtk_widget_get_visible (GTK_WIDGET (images)));
      g_assert_cmpuint (g_list_model_get_n_items (adw_combo_row_get_model (images)), ==, 3);
      g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (images)), ==,
                       "Windows 11 Pro");
      g_assert_cmpstr (adw_action_row_get_subtitle (child (wizard, "install_version_row")), ==,
                       "11.0, build 22631 (disc label " CASEMENT_TEST_MEDIA_WIN11_VOLUME_ID ")");
      screenshot (wizard, "1-install-media-editions");
    }

  /* A disc was chosen: cancelling asks before throwing that away. */
  gtk_widget_activate_action (GTK_WIDGET (wizard), "wizard.cancel", NULL);
  dialog = find_confirm_dialog (wizard);
  screenshot (dialog, "1-cancel-confirm");
  adw_message_dialog_response (dialog, "keep");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (wizard)));

  wizard_close (wizard);
}

static void
test_wizard_drivers (void)
{
  CasementWizard *wizard = wizard_new (1280, 800, host);
  g_autofree char *dir = g_build_filename (discs_dir, "no-viostor", NULL);
  g_autofree char *no_viostor = NULL;
  g_autoptr(GError) error = NULL;

  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  go_to (wizard, CASEMENT_WIZARD_PAGE_DRIVERS);
  assert_blocked (wizard, "virtio-win");

  /* A virtio-win disc without the storage driver Setup needs */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  no_viostor = casement_test_media_make_virtio_iso (dir, "viostor/", &error);
  g_assert_no_error (error);
  set_file (wizard, casement_wizard_set_drivers_iso, no_viostor);
  assert_blocked (wizard, "lacks drivers");
  assert_label_says (wizard, "drivers_error", "viostor");
  g_assert_true (gtk_widget_get_visible (child (wizard, "drivers_missing_row")));
  g_assert_cmpstr (adw_action_row_get_subtitle (child (wizard, "drivers_missing_row")), ==, "viostor");
  screenshot (wizard, "2-drivers-missing-viostor");

  /* The Windows disc is no driver disc */
  set_file (wizard, casement_wizard_set_drivers_iso, win11_iso);
  assert_blocked (wizard, "not a virtio-win");
  assert_label_says (wizard, "drivers_error", "virtio-win");

  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);
  assert_open (wizard);
  g_assert_false (gtk_widget_get_visible (child (wizard, "drivers_error")));
  g_assert_cmpstr (adw_action_row_get_subtitle (child (wizard, "drivers_version_row")), ==, "0.1.262");
  g_assert_false (gtk_widget_get_visible (child (wizard, "drivers_missing_row")));
  screenshot (wizard, "2-drivers");

  /* Back on page 1, another Windows disc: the drivers are checked anew
   * and the later pages wait for that. */
  gtk_widget_activate_action (GTK_WIDGET (wizard), "wizard.back", NULL);
  g_assert_cmpint (casement_wizard_get_page (wizard), ==, CASEMENT_WIZARD_PAGE_INSTALL_MEDIA);
  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  go_to (wizard, CASEMENT_WIZARD_PAGE_HARDWARE);

  wizard_close (wizard);
}

static void
test_wizard_hardware (void)
{
  g_autofree char *taken = add_vm_named ("Windows 11");
  CasementWizard *wizard = wizard_new (1280, 800, host);
  guint64 host_ram = casement_host_get_memory_mib (host) << 20;
  g_autofree char *too_much = g_strdup_printf ("%" G_GUINT64_FORMAT " GiB", host_ram / GIB + 1);
  GtkSpinButton *cpus;

  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);
  go_to (wizard, CASEMENT_WIZARD_PAGE_HARDWARE);

  /* Defaults: a free name, the host's processors, Windows 11's minimums */
  assert_open (wizard);
  g_assert_cmpstr (gtk_editable_get_text (child (wizard, "name_row")), ==, "Windows 11 (2)");
  cpus = child (wizard, "cpus_spin");
  g_assert_cmpint (gtk_spin_button_get_value_as_int (cpus), ==,
                   MAX (casement_host_get_default_cpus (host), 2));
  g_assert_cmpstr (gtk_editable_get_text (child (wizard, "disk_row")), ==, "64 GiB");
  assert_label_says (wizard, "disk_note", "grows as Windows uses it");
  assert_label_says (wizard, "disk_note", "free in");
  screenshot (wizard, "3-hardware");

  type (wizard, "name_row", "windows 11");
  assert_blocked (wizard, "already exists");
  assert_field_problem (wizard, "name_row", "name_icon", "already exists");
  type (wizard, "name_row", "   ");
  assert_blocked (wizard, "Enter a name");
  type (wizard, "name_row", "Work, “Laptop” é");
  assert_open (wizard);
  g_assert_false (gtk_widget_get_visible (child (wizard, "name_icon")));

  type (wizard, "memory_row", too_much);
  assert_blocked (wizard, "of memory");
  assert_field_problem (wizard, "memory_row", "memory_icon", "This computer has only");
  screenshot (wizard, "3-hardware-memory-too-much");
  type (wizard, "memory_row", "2 GiB");
  assert_blocked (wizard, "needs at least 4");
  type (wizard, "memory_row", "lots");
  assert_blocked (wizard, "such as");
  type (wizard, "memory_row", "4096M");
  assert_open (wizard);

  type (wizard, "disk_row", "32 GiB");
  assert_blocked (wizard, "needs a disk of at least 64");
  assert_field_problem (wizard, "disk_row", "disk_icon", "64");
  /* More than is free: sparse, so said but allowed */
  type (wizard, "disk_row", "1000 TiB");
  assert_open (wizard);
  assert_label_says (wizard, "disk_note", "make room before Windows fills the disk");
  g_assert_true (gtk_widget_has_css_class (child (wizard, "disk_note"), "warning"));
  screenshot (wizard, "3-hardware-disk-over-free-space");
  type (wizard, "disk_row", "65G");
  assert_open (wizard);
  g_assert_false (gtk_widget_has_css_class (child (wizard, "disk_note"), "warning"));

  gtk_spin_button_set_value (cpus, 1);
  assert_blocked (wizard, "at least 2 processors");
  gtk_spin_button_set_value (cpus, 2);
  assert_open (wizard);

  g_assert_true (press_next (wizard));
  g_assert_cmpint (casement_wizard_get_page (wizard), ==, CASEMENT_WIZARD_PAGE_SHARE);

  wizard_close (wizard);
  delete_vm (taken);
}

static void
test_wizard_share (void)
{
  CasementWizard *wizard = wizard_new (1280, 800, host);
  g_autofree char *folder = g_build_filename (discs_dir, "Shared, with a comma", NULL);
  g_autofree char *missing = g_build_filename (discs_dir, "gone", NULL);

  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);
  go_to (wizard, CASEMENT_WIZARD_PAGE_SHARE);

  /* None is the default, and fine */
  assert_open (wizard);
  g_assert_cmpstr (adw_action_row_get_subtitle (child (wizard, "share_row")), ==, "None");
  g_assert_false (gtk_widget_get_visible (child (wizard, "share_method_label")));

  set_file (wizard, casement_wizard_set_share_folder, missing);
  assert_blocked (wizard, "cannot be shared");
  assert_label_says (wizard, "share_error", "gone");

  set_file (wizard, casement_wizard_set_share_folder, win11_iso);
  assert_blocked (wizard, "cannot be shared");
  assert_label_says (wizard, "share_error", "not a folder");

  /* The method and why, as the host probe decides it */
  set_file (wizard, casement_wizard_set_share_folder, folder);
  assert_open (wizard);
  assert_label_says (wizard, "share_method_label", "Shared through");
  {
    g_autoptr(CasementVmConfig) probe = casement_vm_config_new ("probe");
    g_autofree char *reason = NULL;

    casement_vm_config_set_share_folder (probe, folder);
    casement_vm_config_set_share_method (probe, CASEMENT_SHARE_METHOD_AUTO);
    casement_qemu_command_resolve_share (probe, host, &reason);
    assert_label_says (wizard, "share_method_label", reason);
  }
  screenshot (wizard, "4-share");

  gtk_widget_activate_action (GTK_WIDGET (wizard), "wizard.clear-share-folder", NULL);
  g_assert_cmpstr (adw_action_row_get_subtitle (child (wizard, "share_row")), ==, "None");
  assert_open (wizard);

  wizard_close (wizard);
}

/* How the host would share @folder, as the wizard asks it. */
static CasementShareMethod
share_method_for (const char *folder)
{
  g_autoptr(CasementVmConfig) probe = casement_vm_config_new ("probe");

  casement_vm_config_set_share_folder (probe, folder);
  casement_vm_config_set_share_method (probe, CASEMENT_SHARE_METHOD_AUTO);
  return casement_qemu_command_resolve_share (probe, host, NULL);
}

/* A stand-in for WinFsp's MSI: an OLE compound file's first bytes, then
 * a pattern over an odd length of several sectors. */
static GBytes *
write_fake_msi (const char *path)
{
  static const guint8 ole_magic[] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
  g_autoptr(GError) error = NULL;
  gsize size = 256 * 1024 + 5;
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) ((i * 2654435761u) >> 9);
  memcpy (data, ole_magic, sizeof ole_magic);

  g_file_set_contents (path, (const char *) data, size, &error);
  g_assert_no_error (error);

  return g_bytes_new_take (data, size);
}

/* A wizard on the share page with @folder chosen. */
static CasementWizard *
wizard_at_share (const char *folder)
{
  CasementWizard *wizard = wizard_new (1280, 800, host);

  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);
  go_to (wizard, CASEMENT_WIZARD_PAGE_SHARE);
  set_file (wizard, casement_wizard_set_share_folder, folder);

  return wizard;
}

static void
test_wizard_winfsp (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(GBytes) msi = NULL;
  g_autofree char *folder = g_build_filename (discs_dir, "Shared, with a comma", NULL);
  g_autofree char *msi_path = g_build_filename (discs_dir, "winfsp-2.0.23075.msi", NULL);
  g_autofree char *gone = g_build_filename (discs_dir, "winfsp-gone.msi", NULL);
  g_autofree char *remembered = NULL;
  CasementWizard *wizard;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  msi = write_fake_msi (msi_path);
  g_settings_reset (settings, "winfsp-installer");

  wizard = wizard_at_share (folder);
  if (share_method_for (folder) != CASEMENT_SHARE_METHOD_VIRTIOFS)
    {
      /* SMB and WebDAV need no WinFsp */
      g_assert_false (gtk_widget_get_visible (child (wizard, "winfsp_group")));
      wizard_close (wizard);
      g_test_skip ("virtiofsd cannot run on this host, so no share here needs WinFsp");
      return;
    }

  /* The virtio-win disc lacks WinFsp and none is remembered: the row, and
   * a warning that does not block */
  g_assert_true (gtk_widget_get_visible (child (wizard, "winfsp_group")));
  g_assert_cmpstr (adw_action_row_get_subtitle (child (wizard, "winfsp_row")), ==, "None");
  assert_label_says (wizard, "winfsp_note", "by hand");
  assert_open (wizard);
  screenshot (wizard, "4-share-winfsp");

  /* Chosen: shown, remembered, the warning gone */
  set_file (wizard, casement_wizard_set_winfsp_installer, msi_path);
  g_assert_true (gtk_widget_get_visible (child (wizard, "winfsp_group")));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (child (wizard, "winfsp_row")), "winfsp-2.0.23075.msi"));
  g_assert_false (gtk_widget_get_visible (child (wizard, "winfsp_note")));
  assert_open (wizard);
  remembered = g_settings_get_string (settings, "winfsp-installer");
  g_assert_cmpstr (remembered, ==, msi_path);
  screenshot (wizard, "4-share-winfsp-chosen");

  /* No folder, nothing to install WinFsp for */
  gtk_widget_activate_action (GTK_WIDGET (wizard), "wizard.clear-share-folder", NULL);
  g_assert_false (gtk_widget_get_visible (child (wizard, "winfsp_group")));
  g_assert_false (gtk_widget_get_visible (child (wizard, "winfsp_note")));
  wizard_close (wizard);

  /* The next wizard knows it and does not ask */
  wizard = wizard_at_share (folder);
  g_assert_false (gtk_widget_get_visible (child (wizard, "winfsp_group")));
  g_assert_false (gtk_widget_get_visible (child (wizard, "winfsp_note")));
  assert_open (wizard);
  wizard_close (wizard);

  /* A remembered installer that went away is asked for again */
  g_settings_set_string (settings, "winfsp-installer", gone);
  wizard = wizard_at_share (folder);
  g_assert_true (gtk_widget_get_visible (child (wizard, "winfsp_group")));
  assert_label_says (wizard, "winfsp_note", "Choose it again");
  assert_label_says (wizard, "winfsp_note", "winfsp-gone.msi");
  assert_open (wizard);
  wizard_close (wizard);

  g_settings_reset (settings, "winfsp-installer");
  g_unlink (msi_path);
}

static void
test_wizard_install (void)
{
  CasementWizard *wizard = wizard_new (1280, 800, host);

  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);
  go_to (wizard, CASEMENT_WIZARD_PAGE_INSTALL);

  /* Defaults: express, the user's login name, a computer name from the
   * VM's, the host's language (C here: US English) and keyboard. */
  g_assert_true (gtk_switch_get_active (child (wizard, "express_switch")));
  g_assert_cmpstr (gtk_editable_get_text (child (wizard, "user_row")), ==, g_get_user_name ());
  g_assert_cmpstr (gtk_editable_get_text (child (wizard, "computer_row")), ==, "WINDOWS-11");
  g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (child (wizard, "language_row"))),
                   ==, "English (United States)");
  g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (child (wizard, "keyboard_row"))),
                   ==, "English (US)");

  type (wizard, "user_row", "Administrator");
  assert_blocked (wizard, "account Windows already has");
  assert_field_problem (wizard, "user_row", "user_icon", "Administrator");
  type (wizard, "user_row", "a/b");
  assert_blocked (wizard, "cannot be a Windows user name");
  type (wizard, "user_row", "Ada");

  type (wizard, "password_row", "secret 1");
  type (wizard, "confirm_row", "secret 2");
  assert_blocked (wizard, "do not match");
  assert_field_problem (wizard, "confirm_row", "confirm_icon", "do not match");
  screenshot (wizard, "5-install-password-mismatch");
  type (wizard, "confirm_row", "secret 1");
  assert_open (wizard);

  type (wizard, "computer_row", "THIS-NAME-IS-TOO-LONG");
  assert_blocked (wizard, "computer name");
  assert_field_problem (wizard, "computer_row", "computer_icon", "1 to 15");
  type (wizard, "computer_row", "12345");
  assert_blocked (wizard, "computer name");
  type (wizard, "computer_row", "ADA-PC");

  type (wizard, "product_key_row", "ABCDE-12345");
  assert_blocked (wizard, "product key");
  type (wizard, "product_key_row", "");
  assert_open (wizard);
  screenshot (wizard, "5-install");

  /* A manual install asks none of it */
  type (wizard, "confirm_row", "other");
  assert_blocked (wizard, "do not match");
  gtk_switch_set_active (child (wizard, "express_switch"), FALSE);
  assert_open (wizard);
  g_assert_false (gtk_widget_get_visible (child (wizard, "account_group")));
  assert_label_says (wizard, "manual_label", "viostor\\w11\\amd64");
  screenshot (wizard, "5-install-manual");

  g_assert_true (press_next (wizard));
  g_assert_cmpint (casement_wizard_get_page (wizard), ==, CASEMENT_WIZARD_PAGE_SUMMARY);
  g_assert_cmpstr (gtk_button_get_label (child (wizard, "next_button")), ==, "_Create");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (child (wizard, "summary_install_row")), "Manual"));

  wizard_close (wizard);
}

/* Express install speaks the host's language: in a child whose locale
 * says German (GLib reads the locale once per process). */
static void
test_wizard_host_locale (void)
{
  CasementWizard *wizard;

  if (!g_test_subprocess ())
    {
      g_setenv ("LANGUAGE", "de_CH.UTF-8", TRUE);
      g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_unsetenv ("LANGUAGE");
      g_test_trap_assert_passed ();
      return;
    }

  wizard = wizard_new (1280, 800, host);
  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);
  go_to (wizard, CASEMENT_WIZARD_PAGE_INSTALL);

  g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (child (wizard, "language_row"))),
                   ==, "German (Switzerland)");
  g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (child (wizard, "keyboard_row"))),
                   ==, "German (Switzerland)");

  wizard_close (wizard);
}

/* Real keys through the X server: Enter goes on, Alt+Left goes back,
 * Escape cancels. */
static gboolean
xdotool (CasementWizard *wizard,
         const char     *keys)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (wizard));
  g_autofree char *xid = g_strdup_printf ("%lu", (gulong) gdk_x11_surface_get_xid (surface));
  gboolean done = FALSE;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                              "xdotool", "windowfocus", "--sync", xid, "key", "--clearmodifiers", keys, NULL);
  g_assert_no_error (error);

  /* GTK must keep running meanwhile: it answers the focus change. */
  g_subprocess_wait_async (process, NULL, subprocess_done_cb, &done);
  CASEMENT_TEST_WAIT_UNTIL (done, CHECK_TIMEOUT_S, "xdotool");
  casement_test_spin (200);

  return g_subprocess_get_if_exited (process) && g_subprocess_get_exit_status (process) == 0;
}

typedef struct
{
  CasementWizard     *wizard;
  CasementWizardPage  page;
} PageWait;

static gboolean
page_reached (gpointer data)
{
  PageWait *wait = data;

  return casement_wizard_get_page (wait->wizard) == wait->page;
}

/* A button pressed with a key clicks a moment later: wait for the page,
 * then make sure it stays. */
static void
press_key (CasementWizard     *wizard,
           const char         *keys,
           CasementWizardPage  page)
{
  PageWait wait = { wizard, page };

  g_assert_true (xdotool (wizard, keys));
  CASEMENT_TEST_WAIT_UNTIL (page_reached (&wait), CHECK_TIMEOUT_S, keys);
  casement_test_spin (200);
  g_assert_cmpint (casement_wizard_get_page (wizard), ==, page);
}

static void
test_wizard_keyboard (void)
{
  g_autofree char *tool = g_find_program_in_path ("xdotool");
  CasementWizard *wizard;

  if (tool == NULL)
    {
      g_test_skip ("xdotool is not installed (build-aux/common.sh test_packages)");
      return;
    }

  wizard = wizard_new (1280, 800, host);

  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);

  /* The disc is there: Enter goes on, wherever the focus was left. */
  press_key (wizard, "Return", CASEMENT_WIZARD_PAGE_DRIVERS);
  press_key (wizard, "Return", CASEMENT_WIZARD_PAGE_HARDWARE);

  /* Enter in a text field goes on too, unless the field is wrong */
  gtk_widget_grab_focus (child (wizard, "memory_row"));
  type (wizard, "memory_row", "1 GiB");
  press_key (wizard, "Return", CASEMENT_WIZARD_PAGE_HARDWARE);
  type (wizard, "memory_row", "4 GiB");
  press_key (wizard, "Return", CASEMENT_WIZARD_PAGE_SHARE);

  press_key (wizard, "alt+Left", CASEMENT_WIZARD_PAGE_HARDWARE);
  press_key (wizard, "alt+Left", CASEMENT_WIZARD_PAGE_DRIVERS);

  /* Data was entered: Escape asks first. */
  g_assert_true (xdotool (wizard, "Escape"));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (wizard)));
  adw_message_dialog_response (find_confirm_dialog (wizard), "keep");

  wizard_close (wizard);
}

static void
test_wizard_keyboard_escape (void)
{
  g_autofree char *tool = g_find_program_in_path ("xdotool");
  CasementWizard *wizard;

  if (tool == NULL)
    {
      g_test_skip ("xdotool is not installed (build-aux/common.sh test_packages)");
      return;
    }

  /* Nothing chosen yet: Escape closes at once. */
  wizard = casement_wizard_new (parent, library, host);
  g_object_add_weak_pointer (G_OBJECT (wizard), (gpointer *) &wizard);
  gtk_window_present (GTK_WINDOW (wizard));
  casement_test_spin (200);
  g_assert_true (xdotool (wizard, "Escape"));
  CASEMENT_TEST_WAIT_UNTIL (wizard == NULL, CHECK_TIMEOUT_S, "the wizard to close");
}

/* QMP's "status" of the VM, or the error in its place. */
static void
query_status_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  char **status = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;

  reply = casement_qmp_client_execute_finish (CASEMENT_QMP_CLIENT (object), result, &error);
  if (reply == NULL)
    *status = g_strdup_printf ("error: %s", error->message);
  else
    *status = g_strdup (json_object_get_string_member (json_node_get_object (reply), "status"));
}

static void
forced_off_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  casement_vm_force_off_finish (CASEMENT_VM (object), result, &error);
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
test_wizard_create (void)
{
  CasementWizard *wizard = wizard_new (1280, 800, host);
  g_autofree char *folder = g_build_filename (discs_dir, "Shared, with a comma", NULL);
  g_autofree char *vm_dir = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *qmp_status = NULL;
  g_autofree char *msi_dir = g_build_filename (discs_dir, "Downloads, “new”", NULL);
  g_autofree char *msi_path = g_build_filename (msi_dir, "winfsp-2.0.23075.msi", NULL);
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(GBytes) msi = NULL;
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  CasementVmState vm_state;
  CasementVm *vm;
  gboolean virtiofs;

  if (missing_wim_tool != NULL)
    {
      g_test_skip (missing_wim_tool);
      wizard_close (wizard);
      return;
    }

  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (msi_dir, 0755), ==, 0);
  g_clear_pointer (&opened_slug, g_free);
  msi = write_fake_msi (msi_path);
  g_settings_reset (settings, "winfsp-installer");
  virtiofs = share_method_for (folder) == CASEMENT_SHARE_METHOD_VIRTIOFS;
  if (!virtiofs)
    g_test_message ("virtiofsd cannot run on this host: the share needs no WinFsp");

  screenshot (wizard, "1-install-media-empty");
  set_file (wizard, casement_wizard_set_install_iso, editions_iso);
  /* Home rather than the default Pro */
  adw_combo_row_set_selected (child (wizard, "install_image_row"), 0);
  screenshot (wizard, "1-install-media");
  g_assert_true (press_next (wizard));
  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);
  screenshot (wizard, "2-drivers");
  g_assert_true (press_next (wizard));
  type (wizard, "name_row", "Windows, 11 “Test”");
  screenshot (wizard, "3-hardware");
  g_assert_true (press_next (wizard));
  set_file (wizard, casement_wizard_set_share_folder, folder);
  /* The virtio-win disc lacks WinFsp: the installer goes on the medium */
  g_assert_cmpint (gtk_widget_get_visible (child (wizard, "winfsp_group")), ==, virtiofs);
  set_file (wizard, casement_wizard_set_winfsp_installer, msi_path);
  screenshot (wizard, "4-share");
  g_assert_true (press_next (wizard));
  type (wizard, "user_row", "Ada");
  type (wizard, "password_row", "correct horse");
  type (wizard, "confirm_row", "correct horse");
  screenshot (wizard, "5-install");
  g_assert_true (press_next (wizard));
  assert_open (wizard);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (child (wizard, "summary_security_row")),
                            "no registry bypass"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (child (wizard, "summary_install_row")), "Ada"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (child (wizard, "summary_windows_row")),
                            "Windows 11 Home"));
  screenshot (wizard, "6-summary");

  /* Create: the VM is made, started, and its window asked for */
  g_assert_true (press_next (wizard));
  g_assert_cmpint (casement_wizard_get_page (wizard), ==, CASEMENT_WIZARD_PAGE_PROGRESS);
  CASEMENT_TEST_WAIT_UNTIL (creation_over (wizard), START_TIMEOUT_S, "the VM to be created and started");
  if (casement_wizard_get_state (wizard) != CASEMENT_WIZARD_STATE_DONE)
    g_error ("Creation ended in state %d: %s", casement_wizard_get_state (wizard),
             gtk_label_get_text (child (wizard, "progress_error")));
  slug = g_strdup (casement_wizard_get_slug (wizard));

  /* QEMU runs it, as QMP says. It is asked, then forced off before
   * anything else is checked, so that a failed check leaves no QEMU. */
  vm = casement_library_lookup (library, slug);
  g_assert_nonnull (vm);
  vm_state = casement_vm_get_state (vm);
  if (casement_vm_get_qmp_client (vm) != NULL)
    {
      casement_qmp_client_execute_async (casement_vm_get_qmp_client (vm), "query-status", NULL, NULL,
                                         query_status_cb, &qmp_status);
      CASEMENT_TEST_WAIT_UNTIL (qmp_status != NULL, CHECK_TIMEOUT_S, "query-status");
    }
  if (casement_vm_get_pid (vm) > 0)
    {
      gboolean done = FALSE;

      casement_vm_force_off_async (vm, NULL, forced_off_cb, &done);
      CASEMENT_TEST_WAIT_UNTIL (done, START_TIMEOUT_S, "QEMU to end");
    }
  g_assert_cmpint (vm_state, ==, CASEMENT_VM_STATE_RUNNING);
  g_assert_cmpstr (qmp_status, ==, "running");
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);

  g_assert_cmpstr (opened_slug, ==, slug);
  /* The wizard closed itself: only the test's reference is left. */
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (wizard)));
  g_assert_finalize_object (wizard);

  /* What was made */
  config = casement_vm_store_load (casement_library_get_store (library), slug, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (casement_vm_config_get_name (config), ==, "Windows, 11 “Test”");
  g_assert_cmpstr (casement_vm_config_get_os_id (config), ==, "win11");
  g_assert_true (casement_vm_config_get_tpm (config));
  g_assert_true (casement_vm_config_get_secure_boot (config));
  g_assert_cmpstr (casement_vm_config_get_install_iso (config), ==, editions_iso);
  g_assert_cmpstr (casement_vm_config_get_drivers_iso (config), ==, virtio_iso);
  g_assert_cmpstr (casement_vm_config_get_unattend_media (config), ==, CASEMENT_UNATTEND_MEDIUM_NAME);
  g_assert_cmpstr (casement_vm_config_get_share_folder (config), ==, folder);
  g_assert_cmpint (casement_vm_config_get_share_method (config), ==, CASEMENT_SHARE_METHOD_AUTO);
  g_assert_cmpuint (casement_vm_config_get_disk_size (config), ==, 64 * GIB);
  g_assert_cmpstr (casement_vm_config_get_user_name (config), ==, "Ada");
  g_assert_cmpstr (casement_vm_config_get_computer_name (config), ==, "WINDOWS-11-TEST");
  g_assert_cmpstr (casement_vm_config_get_language (config), ==, "en-US");
  g_assert_cmpstr (casement_vm_config_get_keyboard (config), ==, "0409:00000409");
  g_assert_cmpstr (casement_vm_config_get_winfsp_installer (config), ==, virtiofs ? msi_path : NULL);

  vm_dir = casement_vm_store_dup_vm_dir (casement_library_get_store (library), slug);
  {
    const char *files[] = { "disk.qcow2", CASEMENT_UNATTEND_MEDIUM_NAME, CASEMENT_VM_EFIVARS_FILE,
                            CASEMENT_VM_TPM_DIR, CASEMENT_VM_CONFIG_FILE };

    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *path = g_build_filename (vm_dir, files[i], NULL);

        if (!g_file_test (path, G_FILE_TEST_EXISTS))
          g_error ("The VM folder lacks %s", files[i]);
      }
  }

  /* The answers on the medium: the edition chosen, the account, and no
   * password in the clear. */
  {
    g_autofree char *medium_path = g_build_filename (vm_dir, CASEMENT_UNATTEND_MEDIUM_NAME, NULL);
    g_autoptr(GFile) medium = g_file_new_for_path (medium_path);
    g_autoptr(CasementIso) iso = casement_iso_open (medium, NULL, &error);
    g_autoptr(GBytes) bytes = NULL;
    g_autofree char *xml = NULL;

    g_assert_no_error (error);
    bytes = casement_iso_read (iso, "autounattend.xml", 0, 1 << 20, NULL, &error);
    g_assert_no_error (error);
    xml = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    g_assert_nonnull (strstr (xml, "<Key>/IMAGE/INDEX</Key>"));
    g_assert_nonnull (strstr (xml, "<Value>1</Value>"));
    g_assert_nonnull (strstr (xml, "<Name>Ada</Name>"));
    g_assert_nonnull (strstr (xml, "<ComputerName>WINDOWS-11-TEST</ComputerName>"));
    g_assert_null (strstr (xml, "correct horse"));

    /* WinFsp's MSI next to the answers, whole, and what installs it */
    {
      g_auto(GStrv) names = casement_iso_list_dir (iso, "/", NULL, &error);
      g_autoptr(GBytes) copy = NULL;

      g_assert_no_error (error);
      g_assert_cmpuint (g_strv_length (names), ==, virtiofs ? 2 : 1);
      g_assert_true (g_strv_contains ((const char * const *) names, "autounattend.xml"));
      if (virtiofs)
        {
          g_assert_true (g_strv_contains ((const char * const *) names, "winfsp-2.0.23075.msi"));
          copy = casement_iso_read (iso, "winfsp-2.0.23075.msi", 0, G_MAXSIZE, NULL, &error);
          g_assert_no_error (error);
          g_assert_true (g_bytes_equal (copy, msi));
          g_assert_nonnull (strstr (xml, "winfsp*.msi"));
        }
    }
  }
  g_settings_reset (settings, "winfsp-installer");

  /* The command line casementctl prints for it */
  {
    const char *ctl = g_getenv ("CASEMENTCTL");
    g_autoptr(GSubprocess) process = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *install_arg = NULL;
    g_autofree char *escaped = NULL;
    g_auto(GStrv) args = NULL;
    guint n_cds = 0;

    g_assert_nonnull (ctl);
    process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                                ctl, "qemu-args", slug, NULL);
    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
    g_assert_no_error (error);
    if (g_subprocess_get_exit_status (process) != 0)
      g_error ("casementctl qemu-args failed: %s", err);

    args = g_strsplit (out, "\n", -1);
    g_assert_true (g_strv_contains ((const char * const *) args, "tpm-crb,tpmdev=tpm0"));
    g_assert_true (g_strv_contains ((const char * const *) args, "driver=cfi.pflash01,property=secure,value=on"));
    g_assert_true (g_strv_contains ((const char * const *) args, "virtio-blk-pci,drive=disk0,bootindex=1"));
    g_assert_true (g_strv_contains ((const char * const *) args, "virtio-balloon-pci"));
    g_assert_true (g_strv_contains ((const char * const *) args, "virtio-serial-pci"));
    g_assert_true (g_strv_contains ((const char * const *) args, "user,model=virtio-net-pci"));
    for (guint i = 0; args[i] != NULL; i++)
      if (g_str_has_prefix (args[i], "ide-cd,"))
        n_cds++;
    g_assert_cmpuint (n_cds, ==, 3);

    /* The install disc's path has a comma: written as QEMU wants it. */
    escaped = casement_qemu_escape (editions_iso);
    install_arg = g_strdup_printf ("if=none,id=cd-install-media,media=cdrom,readonly=on,format=raw,file=%s",
                                   escaped);
    g_assert_true (g_strv_contains ((const char * const *) args, install_arg));
  }

  delete_vm (slug);
  assert_library_holds (0);
}

static void
test_wizard_narrow (void)
{
  CasementWizard *wizard = wizard_new (640, 720, host);
  g_autofree char *folder = g_build_filename (discs_dir, "Shared, with a comma", NULL);

  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  g_assert_cmpint (gdk_surface_get_width (gtk_native_get_surface (GTK_NATIVE (wizard))), ==, 640);

  screenshot (wizard, "narrow-1-install-media-empty");
  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  screenshot (wizard, "narrow-1-install-media");
  g_assert_true (press_next (wizard));
  screenshot (wizard, "narrow-2-drivers-empty");
  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);
  screenshot (wizard, "narrow-2-drivers");
  g_assert_true (press_next (wizard));
  type (wizard, "disk_row", "32 GiB");
  screenshot (wizard, "narrow-3-hardware-disk-too-small");
  type (wizard, "disk_row", "64 GiB");
  screenshot (wizard, "narrow-3-hardware");
  g_assert_true (press_next (wizard));
  set_file (wizard, casement_wizard_set_share_folder, folder);
  screenshot (wizard, "narrow-4-share");
  g_assert_true (press_next (wizard));
  type (wizard, "password_row", "x");
  screenshot (wizard, "narrow-5-install-mismatch");
  type (wizard, "confirm_row", "x");
  g_assert_true (press_next (wizard));
  screenshot (wizard, "narrow-6-summary");

  /* Nothing may stick out: every page fits the 640 px window. */
  g_assert_cmpint (gdk_surface_get_width (gtk_native_get_surface (GTK_NATIVE (wizard))), ==, 640);

  wizard_close (wizard);
}

/* A failure after the store made the VM (here: a UEFI variable template
 * qemu-img cannot read) takes it all away again. */
static void
test_wizard_create_failure (void)
{
  g_autofree char *json = casement_host_to_json (host);
  g_autofree char *bad_vars = g_build_filename (discs_dir, "OVMF_VARS_broken.fd", NULL);
  g_autoptr(CasementHost) broken = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *broken_json = NULL;
  CasementWizard *wizard;
  JsonObject *object;

  /* The same host, but its VARS template is a folder. */
  g_assert_cmpint (g_mkdir_with_parents (bad_vars, 0755), ==, 0);
  root = json_from_string (json, &error);
  g_assert_no_error (error);
  object = json_node_get_object (root);
  g_assert_true (json_object_has_member (object, "firmware"));
  {
    JsonObject *firmware = json_object_get_object_member (object, "firmware");
    JsonObject *secure_boot = json_object_get_object_member (firmware, "secure-boot");

    json_object_set_string_member (secure_boot, "vars", bad_vars);
  }
  broken_json = json_to_string (root, FALSE);
  broken = casement_host_new_from_json (broken_json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (casement_host_get_firmware_vars (broken, TRUE), ==, bad_vars);

  wizard = wizard_new (640, 720, broken);
  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);
  go_to (wizard, CASEMENT_WIZARD_PAGE_SUMMARY);
  type (wizard, "name_row", "Doomed");
  go_to (wizard, CASEMENT_WIZARD_PAGE_SUMMARY);

  g_assert_true (press_next (wizard));
  screenshot (wizard, "7-progress");
  CASEMENT_TEST_WAIT_UNTIL (creation_over (wizard), START_TIMEOUT_S, "creation to fail");
  g_assert_cmpint (casement_wizard_get_state (wizard), ==, CASEMENT_WIZARD_STATE_FAILED);
  assert_label_says (wizard, "progress_error", "UEFI variables");
  g_assert_true (gtk_widget_get_visible (child (wizard, "retry_button")));
  g_assert_true (gtk_widget_get_visible (child (wizard, "progress_back_button")));
  g_assert_null (casement_wizard_get_slug (wizard));
  screenshot (wizard, "7-progress-failed");
  gtk_window_set_default_size (GTK_WINDOW (wizard), 1280, 800);
  screenshot (wizard, "7-progress-failed");
  assert_library_holds (0);

  /* Again: the same, and still nothing left */
  click (wizard, "retry_button");
  CASEMENT_TEST_WAIT_UNTIL (creation_over (wizard), START_TIMEOUT_S, "creation to fail again");
  g_assert_cmpint (casement_wizard_get_state (wizard), ==, CASEMENT_WIZARD_STATE_FAILED);
  assert_library_holds (0);

  /* Back to the summary, to change something */
  click (wizard, "progress_back_button");
  g_assert_cmpint (casement_wizard_get_page (wizard), ==, CASEMENT_WIZARD_PAGE_SUMMARY);
  g_assert_cmpint (casement_wizard_get_state (wizard), ==, CASEMENT_WIZARD_STATE_EDITING);
  assert_open (wizard);

  wizard_close (wizard);
}

/* Cancel while the disk is being made: the store undoes it, then the
 * wizard closes. */
static void
test_wizard_create_cancel (void)
{
  CasementWizard *wizard = wizard_new (1280, 800, host);

  set_file (wizard, casement_wizard_set_install_iso, win11_iso);
  set_file (wizard, casement_wizard_set_drivers_iso, virtio_iso);
  go_to (wizard, CASEMENT_WIZARD_PAGE_SUMMARY);
  g_assert_true (press_next (wizard));
  g_assert_cmpint (casement_wizard_get_state (wizard), ==, CASEMENT_WIZARD_STATE_CREATING);

  gtk_widget_activate_action (GTK_WIDGET (wizard), "wizard.cancel", NULL);
  adw_message_dialog_response (find_confirm_dialog (wizard), "discard");

  CASEMENT_TEST_WAIT_UNTIL (window_gone (wizard), START_TIMEOUT_S, "the wizard to undo and close");
  g_assert_cmpint (casement_wizard_get_state (wizard), ==, CASEMENT_WIZARD_STATE_FAILED);
  g_assert_finalize_object (wizard);
  assert_library_holds (0);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing_tool = NULL;
  g_autofree char *discs_parent = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  if (!(env = casement_test_guest_env_new (&error)))
    g_error ("%s", error->message);
  casement_test_kill_on_abort (casement_test_guest_env_get_dir (env));

  /* The schema as the build compiled it; settings only in memory, so the
   * wizard remembers the WinFsp installer within this run alone. */
  {
    g_autofree char *schema_dir = g_test_build_filename (G_TEST_BUILT, "..", "data", NULL);
    g_autoptr(GSettingsSchema) schema = NULL;

    g_setenv ("GSETTINGS_SCHEMA_DIR", schema_dir, TRUE);
    g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
    schema = g_settings_schema_source_lookup (g_settings_schema_source_get_default (), APP_ID, TRUE);
    if (schema == NULL)
      g_error ("No compiled settings schema in %s", schema_dir);
  }

  /* GTK draws in software, without animations, off the accessibility bus,
   * and off the session bus: there, GTK would start the document portal,
   * which mounts itself into our private runtime folder. The wizard needs
   * no bus, and GTK and GApplication carry on without one. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GDK_BACKEND", "x11", TRUE);
  {
    g_autofree char *no_bus = g_strdup_printf ("unix:path=%s/no-session-bus",
                                               casement_test_guest_env_get_dir (env));

    g_setenv ("DBUS_SESSION_BUS_ADDRESS", no_bus, TRUE);
  }

  if (!casement_test_ensure_display ("1600x1200x24", &xvfb) || !gtk_init_check ())
    {
      g_test_skip ("Needs an X display: DISPLAY is unset and Xvfb is not installed");
      g_clear_pointer (&env, casement_test_guest_env_free);
      return g_test_run ();
    }
  adw_init ();
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  /* Screenshots stay after the run, to be looked at; each run starts afresh. */
  screenshot_dir = g_test_build_filename (G_TEST_BUILT, "test-wizard-screenshots", NULL);
  g_assert_cmpint (g_mkdir_with_parents (screenshot_dir, 0755), ==, 0);
  {
    g_autoptr(GDir) dir = g_dir_open (screenshot_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)))
      {
        g_autofree char *path = g_build_filename (screenshot_dir, name, NULL);

        if (g_str_has_suffix (name, ".png"))
          g_unlink (path);
      }
  }
  if (!(import_path = g_find_program_in_path ("import")))
    g_test_message ("No screenshots: ImageMagick’s import is not installed");

  /* Discs in a folder whose name has a comma and a space, as QEMU's
   * option syntax makes those the hard case. */
  discs_parent = g_build_filename (casement_test_guest_env_get_dir (env), "discs, here", NULL);
  discs_dir = g_steal_pointer (&discs_parent);
  g_assert_cmpint (g_mkdir_with_parents (discs_dir, 0755), ==, 0);

  if ((missing_tool = casement_test_media_dup_missing_tool ()) == NULL)
    {
      g_autofree char *win11_dir = g_build_filename (discs_dir, "win11", NULL);

      g_assert_cmpint (g_mkdir_with_parents (win11_dir, 0755), ==, 0);
      win11_iso = casement_test_media_make_labelled_iso (win11_dir, "Win11_23H2_English_x64.iso",
                                                         CASEMENT_TEST_MEDIA_WIN11_VOLUME_ID,
                                                         CASEMENT_TEST_MEDIA_MS_PUBLISHER, TRUE, &error);
      g_assert_no_error (error);
      virtio_iso = casement_test_media_make_virtio_iso (discs_dir, NULL, &error);
      g_assert_no_error (error);
    }

  if ((missing_wim_tool = casement_test_media_dup_missing_wim_tool ()) == NULL)
    {
      g_autofree char *editions_dir = g_build_filename (discs_dir, "editions", NULL);
      const CasementTestWimImage editions[] = {
        { "Windows 11 Home", "Core" },
        { "Windows 11 Pro", "Professional" },
        { "Windows 11 Education", "Education" },
      };

      g_assert_cmpint (g_mkdir_with_parents (editions_dir, 0755), ==, 0);
      editions_iso = casement_test_media_make_windows_iso (editions_dir, CASEMENT_TEST_MEDIA_WIN11_VOLUME_ID,
                                                           22631, editions, G_N_ELEMENTS (editions), &error);
      g_assert_no_error (error);
    }

  if (!(host = casement_host_probe (NULL, &error)))
    g_error ("Cannot probe the host: %s", error->message);

  {
    g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);

    library = casement_library_new (store);
  }

  app = gtk_application_new ("io.github.casement.Casement.TestWizard", G_APPLICATION_NON_UNIQUE);
  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions), NULL);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  parent = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_application (parent, app);

  if (missing_tool != NULL)
    {
      g_test_skip (missing_tool);
    }
  else
    {
      g_test_add_func ("/Casement/Wizard/first-page", test_wizard_first_page);
      g_test_add_func ("/Casement/Wizard/drivers", test_wizard_drivers);
      g_test_add_func ("/Casement/Wizard/hardware", test_wizard_hardware);
      g_test_add_func ("/Casement/Wizard/share", test_wizard_share);
      g_test_add_func ("/Casement/Wizard/winfsp", test_wizard_winfsp);
      g_test_add_func ("/Casement/Wizard/install", test_wizard_install);
      g_test_add_func ("/Casement/Wizard/host-locale", test_wizard_host_locale);
      g_test_add_func ("/Casement/Wizard/keyboard", test_wizard_keyboard);
      g_test_add_func ("/Casement/Wizard/keyboard-escape", test_wizard_keyboard_escape);
      g_test_add_func ("/Casement/Wizard/narrow", test_wizard_narrow);
      g_test_add_func ("/Casement/Wizard/create", test_wizard_create);
      g_test_add_func ("/Casement/Wizard/create-failure", test_wizard_create_failure);
      g_test_add_func ("/Casement/Wizard/create-cancel", test_wizard_create_cancel);
    }

  status = g_test_run ();

  gtk_window_destroy (parent);
  g_clear_object (&app);
  g_clear_object (&library);
  g_clear_object (&host);
  g_clear_pointer (&win11_iso, g_free);
  g_clear_pointer (&editions_iso, g_free);
  g_clear_pointer (&missing_wim_tool, g_free);
  g_clear_pointer (&virtio_iso, g_free);
  g_clear_pointer (&discs_dir, g_free);
  g_clear_pointer (&screenshot_dir, g_free);
  g_clear_pointer (&import_path, g_free);
  g_clear_pointer (&opened_slug, g_free);
  g_clear_pointer (&env, casement_test_guest_env_free);

  casement_test_stop_display (&xvfb);

  return status;
}
