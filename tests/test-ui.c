/* test-ui.c
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

/* The application's windows driven as a user would, under a real X server
 * (build-aux/test's xvfb-run, or our own Xvfb): the real CasementApplication
 * with its library window, VM windows, settings, preferences and shortcuts,
 * on VMs of the tiny test guest run by the real QEMU under TCG and checked
 * over their own QMP socket. Screenshots of each window and menu land in
 * the build folder (test-ui-screenshots/), to be looked at. */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gdk/x11/gdkx.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "casement-application.h"
#include "casement-display.h"
#include "casement-library.h"
#include "casement-preferences.h"
#include "casement-qemu-command.h"
#include "casement-qemu-img.h"
#include "casement-test-guest.h"
#include "casement-test-media.h"
#include "casement-test-util.h"
#include "casement-vm-row.h"
#include "casement-vm-settings.h"
#include "casement-vm-window.h"
#include "casement-window.h"

/* Guest boot under TCG takes seconds; a loaded 2-core host may need more. */
#define BOOT_TIMEOUT_S 180
#define STEP_TIMEOUT_S 60

#define MIB (G_GUINT64_CONSTANT (1) << 20)
#define GIB (G_GUINT64_CONSTANT (1) << 30)

static CasementTestGuestEnv *env;
static GSubprocess          *xvfb;
static CasementApplication  *app;
static char                 *screenshot_dir;
static char                 *import_path;
static char                 *xdotool_path;
static char                 *media_dir;
static char                 *disc_a;     /* two small ISOs for the CD drives */
static char                 *disc_b;
static char                 *pictures_dir;

static gboolean
subprocess_done (GSubprocess *process,
                 GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_subprocess_wait_async (process, NULL, casement_test_store_result_cb, &result);
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, "a helper program");

  return g_subprocess_wait_check_finish (process, result, error);
}

/* @crop: an X geometry such as "1280x800+0+0", or NULL for all of it */
static void
run_import_crop (const char *window_id,
                 const char *crop,
                 const char *name)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *file_name = NULL;
  g_autofree char *path = NULL;
  const char *scale = g_getenv ("GDK_SCALE");

  file_name = g_strdup_printf ("%s%s.png", name, scale != NULL ? "-2x" : "");
  path = g_build_filename (screenshot_dir, file_name, NULL);
  if (crop != NULL)
    process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                                import_path, "-window", window_id, "-crop", crop, "+repage", path, NULL);
  else
    process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                                import_path, "-window", window_id, path, NULL);
  g_assert_no_error (error);
  subprocess_done (process, &error);
  g_assert_no_error (error);
  g_test_message ("Screenshot: %s", path);
}

static void
run_import (const char *window_id,
            const char *name)
{
  run_import_crop (window_id, NULL, name);
}

static char *
window_xid (GtkWindow *window)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));

  return g_strdup_printf ("0x%lx", (gulong) gdk_x11_surface_get_xid (surface));
}

/* A window as the X server shows it, as a PNG (ImageMagick's import). */
static void
screenshot (gpointer    window,
            const char *name)
{
  g_autofree char *xid = NULL;

  if (import_path == NULL)
    return;

  casement_test_spin (300);
  xid = window_xid (window);
  run_import (xid, name);
}

/* The whole screen: for menus, which are windows of their own. */
static void
screenshot_screen (const char *name)
{
  if (import_path == NULL)
    return;

  casement_test_spin (300);
  run_import ("root", name);
}

/* The top left 1280 × 800 of the screen, where the windows open (no
 * window manager places them): dialogs with the window they belong to. */
static void
screenshot_desktop (const char *name)
{
  if (import_path == NULL)
    return;

  casement_test_spin (300);
  run_import_crop ("root", "1280x800+0+0", name);
}

/* xdotool makes real X input events, which reach GTK as a user's would. */
static void
xdo (const char *first_arg,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  va_list args;

  g_ptr_array_add (argv, xdotool_path);
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  subprocess_done (process, &error);
  g_assert_no_error (error);
  casement_test_spin (200);
}

static void
focus_window (GtkWindow *window)
{
  g_autofree char *xid = window_xid (window);

  gtk_window_present (window);
  xdo ("windowfocus", "--sync", xid, NULL);
  CASEMENT_TEST_WAIT_UNTIL (gtk_window_is_active (window), STEP_TIMEOUT_S, "the window to have the focus");
}

/* ---- Widgets ------------------------------------------------------------------ */

static gpointer
template_child (gpointer    widget,
                GType       type,
                const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  if (object == NULL)
    g_error ("No template child %s in %s", name, G_OBJECT_TYPE_NAME (widget));

  return object;
}

/* How wide the window is on the X server, its shadow included. */
static int
surface_width (gpointer window)
{
  return gdk_surface_get_width (gtk_native_get_surface (GTK_NATIVE (window)));
}

/* The toplevel of @type, the newest first; NULL when none. */
static gpointer
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = g_list_model_get_n_items (toplevels); i > 0; i--)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i - 1);

      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return window;
    }

  return NULL;
}

static gboolean
toplevel_exists (gpointer window)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (toplevels, i);

      if (item == window)
        return TRUE;
    }

  return FALSE;
}

/* The message dialog over @parent, once it shows. */
static AdwMessageDialog *
wait_message_dialog (GtkWindow *parent)
{
  AdwMessageDialog *dialog = NULL;

  CASEMENT_TEST_WAIT_UNTIL ((dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG)) != NULL &&
              gtk_window_get_transient_for (GTK_WINDOW (dialog)) == parent,
              STEP_TIMEOUT_S, "a message dialog");
  return dialog;
}

static GtkWidget *
find_button (GtkWidget  *root,
             const char *label)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (GTK_IS_BUTTON (child) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (child)), label) == 0)
        return child;
      if ((found = find_button (child, label)))
        return found;
    }

  return NULL;
}

/* The widget under @root that the .ui file called @id. */
static GtkWidget *
find_buildable (GtkWidget  *root,
                const char *id)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (g_strcmp0 (gtk_buildable_get_buildable_id (GTK_BUILDABLE (child)), id) == 0)
        return child;
      if ((found = find_buildable (child, id)))
        return found;
    }

  return NULL;
}

/* Clicks the dialog's button labelled @label, as a user does: the
 * dialog answers, then closes. */
static void
click_response (AdwMessageDialog *dialog,
                const char       *label)
{
  GtkWidget *button = find_button (GTK_WIDGET (dialog), label);

  if (button == NULL)
    g_error ("The dialog has no button “%s”", label);

  g_object_ref (dialog);
  g_signal_emit_by_name (button, "clicked");
  CASEMENT_TEST_WAIT_UNTIL (!toplevel_exists (dialog), STEP_TIMEOUT_S, "the dialog to close");
  g_object_unref (dialog);
}

/* A widget under @root (popovers included) bound to @action and, if
 * given, @target; its sensitivity tells whether the action is enabled. */
static GtkWidget *
find_actionable (GtkWidget  *root,
                 const char *action,
                 const char *target)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (GTK_IS_ACTIONABLE (child) &&
          g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (child)), action) == 0)
        {
          GVariant *value = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (child));

          if (target == NULL ||
              (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) &&
               g_str_equal (g_variant_get_string (value, NULL), target)))
            return child;
        }

      if ((found = find_actionable (child, action, target)))
        return found;
    }

  return NULL;
}

static gboolean
action_enabled (gpointer    root,
                const char *action,
                const char *target)
{
  GtkWidget *widget = find_actionable (GTK_WIDGET (root), action, target);

  if (widget == NULL)
    g_error ("Nothing in %s is bound to %s", G_OBJECT_TYPE_NAME (root), action);

  return gtk_widget_is_sensitive (widget);
}

/* The menu item labelled @label (as in the .ui, with its underline)
 * under @root: menus build their items as GtkModelButtons, whose
 * sensitivity follows their action's enabled state. */
static GtkWidget *
find_menu_item (GtkWidget  *root,
                const char *label)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (g_str_equal (G_OBJECT_TYPE_NAME (child), "GtkModelButton"))
        {
          g_autofree char *text = NULL;
          g_autofree char *plain = g_strdup (label);
          char *out = plain;

          /* The buttons show the label without its mnemonic's underline. */
          for (const char *in = label; *in; in++)
            if (*in != '_')
              *out++ = *in;
          *out = '\0';

          g_object_get (child, "text", &text, NULL);
          if (g_strcmp0 (text, plain) == 0)
            return child;
        }

      if ((found = find_menu_item (child, label)))
        return found;
    }

  return NULL;
}

static gboolean
menu_item_enabled (gpointer    root,
                   const char *label)
{
  GtkWidget *item = find_menu_item (GTK_WIDGET (root), label);

  if (item == NULL)
    g_error ("No menu item “%s” in %s", label, G_OBJECT_TYPE_NAME (root));

  return gtk_widget_is_sensitive (item);
}

/* Whether a label under @root says @text (toasts, banners). */
static gboolean
shows_text (GtkWidget  *root,
            const char *text)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_LABEL (child) && gtk_widget_get_mapped (child) &&
          strstr (gtk_label_get_text (GTK_LABEL (child)), text) != NULL)
        return TRUE;
      if (shows_text (child, text))
        return TRUE;
    }

  return FALSE;
}

/* Waits for a toast over @window saying @text (with @timeout_s). */
static void
wait_text (gpointer    window,
           const char *text,
           guint       timeout_s)
{
  g_autofree char *what = g_strdup_printf ("“%s” to show", text);

  CASEMENT_TEST_WAIT_UNTIL (shows_text (GTK_WIDGET (window), text), timeout_s, what);
}

/* ---- The application and its VMs --------------------------------------------- */

static CasementWindow *
library_window (void)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    if (CASEMENT_IS_WINDOW (l->data))
      return l->data;

  g_error ("No library window");
}

/* The store the application's library reads: the default folder, as
 * the preferences leave "vm-folder" empty. */
static CasementVmStore *
store (void)
{
  static CasementVmStore *store;

  if (store == NULL)
    store = casement_vm_store_new (NULL);

  return store;
}

/* The VM the library window shows for @slug, once it knows its settings. */
static CasementVm *
lookup_vm (const char *slug)
{
  GtkWidget *list = template_child (library_window (), CASEMENT_TYPE_WINDOW, "vm_list");

  for (GtkWidget *child = gtk_widget_get_first_child (list); child; child = gtk_widget_get_next_sibling (child))
    {
      CasementVm *vm;

      if (!CASEMENT_IS_VM_ROW (child))
        continue;

      vm = casement_vm_row_get_vm (CASEMENT_VM_ROW (child));
      if (g_str_equal (casement_vm_get_slug (vm), slug) && casement_vm_get_config (vm) != NULL)
        return vm;
    }

  return NULL;
}

static char *
create_vm (const char       *name,
           CasementVmConfig *config)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *slug;

  casement_vm_store_create_async (store (), config, NULL, casement_test_store_result_cb, &result);
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, "VM creation");
  slug = casement_vm_store_create_finish (store (), result, &error);
  g_assert_no_error (error);

  return slug;
}

/* A VM of the test guest in @mode ("idle", "pattern", …), shown in the
 * library once it knows its state. */
static CasementVm *
add_guest_in_mode (const char *name,
                   const char *mode,
                   const char *extra_cmdline)
{
  g_autoptr(CasementVmConfig) config = casement_test_guest_config_new (name, mode, extra_cmdline);
  g_autofree char *slug = NULL;
  CasementVm *vm = NULL;

  casement_vm_config_set_install_iso (config, disc_a);
  casement_vm_config_set_drivers_iso (config, disc_b);
  slug = create_vm (name, config);
  casement_window_reload (library_window ());
  CASEMENT_TEST_WAIT_UNTIL ((vm = lookup_vm (slug)) != NULL, STEP_TIMEOUT_S, "the VM in the library");

  return vm;
}

static CasementVm *
add_guest (const char *name,
           const char *extra_cmdline)
{
  return add_guest_in_mode (name, "idle", extra_cmdline);
}

/* A VM that is never started: a name and settings, no disk. */
static CasementVm *
add_stub (const char *name,
          const char *os_id)
{
  g_autoptr(CasementVmConfig) config = casement_vm_config_new (name);
  g_autofree char *slug = NULL;
  CasementVm *vm = NULL;

  casement_vm_config_set_os_id (config, os_id);
  casement_vm_config_set_disk_size (config, 0);
  slug = create_vm (name, config);
  casement_window_reload (library_window ());
  CASEMENT_TEST_WAIT_UNTIL ((vm = lookup_vm (slug)) != NULL, STEP_TIMEOUT_S, "the VM in the library");

  return vm;
}

static CasementVmRow *
find_row (CasementVm *vm)
{
  GtkWidget *list = template_child (library_window (), CASEMENT_TYPE_WINDOW, "vm_list");

  for (GtkWidget *child = gtk_widget_get_first_child (list); child; child = gtk_widget_get_next_sibling (child))
    if (CASEMENT_IS_VM_ROW (child) && casement_vm_row_get_vm (CASEMENT_VM_ROW (child)) == vm)
      return CASEMENT_VM_ROW (child);

  return NULL;
}

static guint
count_rows (void)
{
  GtkWidget *list = template_child (library_window (), CASEMENT_TYPE_WINDOW, "vm_list");
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (list); child; child = gtk_widget_get_next_sibling (child))
    if (CASEMENT_IS_VM_ROW (child))
      n++;

  return n;
}

static CasementVmWindow *
find_vm_window (CasementVm *vm)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    if (CASEMENT_IS_VM_WINDOW (l->data) && casement_vm_window_get_vm (l->data) == vm)
      return l->data;

  return NULL;
}

static CasementVmConfig *
load_config (CasementVm *vm)
{
  g_autoptr(GError) error = NULL;
  CasementVmConfig *config = casement_vm_store_load (store (), casement_vm_get_slug (vm), &error);

  g_assert_no_error (error);
  return config;
}

static void
wait_state (CasementVm      *vm,
            CasementVmState  state,
            guint            timeout_s)
{
  g_autofree char *what = g_strdup_printf ("%s to be %s", casement_vm_get_slug (vm),
                                           casement_vm_state_to_label (state));

  CASEMENT_TEST_WAIT_UNTIL (casement_vm_get_state (vm) == state, timeout_s, what);
}

static void
wait_serial (CasementVm *vm,
             const char *regex,
             guint       timeout_s)
{
  g_autofree char *vm_dir = casement_vm_dup_vm_dir (vm);
  g_autofree char *serial = g_build_filename (vm_dir, CASEMENT_VM_SERIAL_LOG, NULL);
  g_autoptr(GError) error = NULL;

  if (!casement_test_guest_wait_serial (serial, regex, timeout_s * 1000, NULL, &error))
    g_error ("%s", error->message);
}

/* A QMP command on the VM's second socket, as casementctl would send it:
 * what QEMU says, not what the app believes. */
static JsonNode *
qmp (CasementVm *vm,
     const char *command)
{
  g_autoptr(CasementQmpClient) client = casement_qmp_client_new ();
  g_autoptr(GAsyncResult) connected = NULL;
  g_autoptr(GAsyncResult) executed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *run_dir = casement_vm_dup_runtime_dir (vm, &error);
  g_autofree char *socket = NULL;
  JsonNode *reply;

  g_assert_no_error (error);
  socket = g_build_filename (run_dir, CASEMENT_RUNTIME_QMP_CLI_SOCKET, NULL);

  casement_qmp_client_connect_async (client, socket, NULL, casement_test_store_result_cb, &connected);
  CASEMENT_TEST_WAIT_UNTIL (connected != NULL, STEP_TIMEOUT_S, "the QMP connection");
  if (!casement_qmp_client_connect_finish (client, connected, &error))
    g_error ("Cannot connect to %s: %s", socket, error->message);

  casement_qmp_client_execute_async (client, command, NULL, NULL, casement_test_store_result_cb, &executed);
  CASEMENT_TEST_WAIT_UNTIL (executed != NULL, STEP_TIMEOUT_S, command);
  reply = casement_qmp_client_execute_finish (client, executed, &error);
  g_assert_no_error (error);
  casement_qmp_client_close (client);

  return reply;
}

static char *
qmp_status (CasementVm *vm)
{
  g_autoptr(JsonNode) reply = qmp (vm, "query-status");

  return g_strdup (json_object_get_string_member (json_node_get_object (reply), "status"));
}

static gboolean
qmp_status_is (CasementVm *vm,
               const char *status)
{
  g_autofree char *now = qmp_status (vm);

  return g_strcmp0 (now, status) == 0;
}

/* The file in a CD drive (its qdev id), as QEMU's query-block says; NULL
 * when the drive is empty. */
static char *
qmp_cd_file (CasementVm *vm,
             const char *qdev)
{
  g_autoptr(JsonNode) reply = qmp (vm, "query-block");
  JsonArray *devices = json_node_get_array (reply);

  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      JsonObject *device = json_array_get_object_element (devices, i);
      const char *qdev_path = json_object_get_string_member_with_default (device, "qdev", "");

      if (!g_str_has_suffix (qdev_path, qdev))
        continue;
      if (!json_object_has_member (device, "inserted"))
        return NULL;
      return g_strdup (json_object_get_string_member (json_object_get_object_member (device, "inserted"),
                                                      "file"));
    }

  g_error ("No drive %s in query-block", qdev);
}

static gboolean
cd_holds (CasementVm *vm,
          const char *qdev,
          const char *path)
{
  g_autofree char *file = qmp_cd_file (vm, qdev);

  return g_strcmp0 (file, path) == 0;
}

static void
force_off (CasementVm *vm)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  if (casement_vm_get_state (vm) == CASEMENT_VM_STATE_STOPPED ||
      casement_vm_get_state (vm) == CASEMENT_VM_STATE_CRASHED)
    return;

  casement_vm_force_off_async (vm, NULL, casement_test_store_result_cb, &result);
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, "force off");
  casement_vm_force_off_finish (vm, result, &error);
  g_assert_no_error (error);
}

static GtkMenuButton *
find_menu_button (GtkWidget  *root,
                  const char *icon_name)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkMenuButton *found;

      if (GTK_IS_MENU_BUTTON (child) &&
          g_strcmp0 (gtk_menu_button_get_icon_name (GTK_MENU_BUTTON (child)), icon_name) == 0)
        return GTK_MENU_BUTTON (child);
      if ((found = find_menu_button (child, icon_name)))
        return found;
    }

  return NULL;
}

/* Presses the menu button with @icon_name and shows its menu, for a look. */
static void
screenshot_menu (gpointer    window,
                 const char *icon_name,
                 const char *name)
{
  GtkMenuButton *menu_button = find_menu_button (GTK_WIDGET (window), icon_name);

  g_assert_nonnull (menu_button);

  gtk_menu_button_popup (menu_button);
  screenshot_screen (name);
  gtk_menu_button_popdown (menu_button);
  casement_test_spin (200);
}

/* Chooses @path in the file chooser a window just opened (GTK's own
 * dialog: no portal here) and accepts it. */
static void
choose_file (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  GtkFileChooserDialog *dialog = NULL;

  CASEMENT_TEST_WAIT_UNTIL ((dialog = find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG)) != NULL, STEP_TIMEOUT_S, "a file chooser");
  casement_test_spin (300);
  /* A folder chooser with nothing selected picks the folder it shows. */
  if (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (dialog)) == GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER)
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), file, &error);
  else
    gtk_file_chooser_set_file (GTK_FILE_CHOOSER (dialog), file, &error);
  g_assert_no_error (error);
  casement_test_spin (500);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  CASEMENT_TEST_WAIT_UNTIL (!toplevel_exists (dialog), STEP_TIMEOUT_S, "the file chooser to close");
}

static guint
count_serial (CasementVm *vm,
              const char *needle)
{
  g_autofree char *vm_dir = casement_vm_dup_vm_dir (vm);
  g_autofree char *serial = g_build_filename (vm_dir, CASEMENT_VM_SERIAL_LOG, NULL);
  g_autofree char *contents = NULL;
  guint n = 0;

  if (!g_file_get_contents (serial, &contents, NULL, NULL))
    return 0;

  for (const char *p = contents; (p = strstr (p, needle)) != NULL; p++)
    n++;

  return n;
}

static gboolean
is_png (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  return g_file_get_contents (path, &contents, &len, NULL) && len > 8 &&
         memcmp (contents, "\x89PNG\r\n\x1a\n", 8) == 0;
}

/* The PNG files in @dir. */
static GPtrArray *
list_pngs (const char *dir)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)))
    if (g_str_has_suffix (name, ".png"))
      g_ptr_array_add (paths, g_build_filename (dir, name, NULL));

  return paths;
}

static guint
count_pngs (const char *dir)
{
  g_autoptr(GPtrArray) paths = list_pngs (dir);

  return paths->len;
}

static gboolean
settings_idle (CasementVmSettings *settings)
{
  return casement_vm_settings_get_state (settings) == CASEMENT_VM_SETTINGS_STATE_EDITING;
}

static CasementVmSettings *
open_settings (CasementVm *vm)
{
  CasementVmSettings *settings = NULL;

  gtk_widget_activate_action (GTK_WIDGET (find_row (vm)), "row.settings", NULL);
  CASEMENT_TEST_WAIT_UNTIL ((settings = find_toplevel (CASEMENT_TYPE_VM_SETTINGS)) != NULL &&
              casement_vm_settings_get_vm (settings) == vm,
              STEP_TIMEOUT_S, "the settings window");
  CASEMENT_TEST_WAIT_UNTIL (settings_idle (settings), STEP_TIMEOUT_S, "the settings to load");
  g_assert_null (casement_vm_settings_get_error (settings));

  return settings;
}

/* Waits until the change is written (or refused). */
static void
settle_settings (CasementVmSettings *settings)
{
  casement_test_spin (50);
  CASEMENT_TEST_WAIT_UNTIL (settings_idle (settings), STEP_TIMEOUT_S, "the settings to be saved");
}

static gpointer
settings_child (CasementVmSettings *settings,
                const char         *name)
{
  return template_child (settings, CASEMENT_TYPE_VM_SETTINGS, name);
}

static void
assert_error_says (CasementVmSettings *settings,
                   const char         *needle)
{
  const char *error = casement_vm_settings_get_error (settings);

  if (error == NULL || strstr (error, needle) == NULL)
    g_error ("The settings say “%s”, not “%s”", error ? error : "(nothing)", needle);
}

/* ---- Test cases ------------------------------------------------------------------ */

/* The empty library, and what the host probe found. */
static void
test_ui_library (void)
{
  CasementWindow *window = library_window ();
  GtkStack *stack = template_child (window, CASEMENT_TYPE_WINDOW, "stack");
  GtkRevealer *revealer = template_child (window, CASEMENT_TYPE_WINDOW, "problems_revealer");
  GtkLabel *label = template_child (window, CASEMENT_TYPE_WINDOW, "problems_label");
  g_auto(GStrv) problems = NULL;
  CasementHost *host;

  CASEMENT_TEST_WAIT_UNTIL ((host = casement_window_get_host (window)) != NULL, STEP_TIMEOUT_S, "the host probe");
  casement_test_spin (300);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "empty");

  /* Each problem the probe found is told, with what to do; none, no note. */
  problems = casement_host_dup_problems (host);
  g_assert_cmpint (gtk_revealer_get_reveal_child (revealer), ==, problems[0] != NULL);
  for (guint i = 0; problems[i] != NULL; i++)
    {
      g_test_message ("Host problem: %s", problems[i]);
      g_assert_nonnull (strstr (gtk_label_get_text (label), problems[i]));
    }

  screenshot (window, "library-empty");
  screenshot_menu (window, "open-menu-symbolic", "library-main-menu");
  g_assert_true (menu_item_enabled (window, "_Preferences"));
  g_assert_true (menu_item_enabled (window, "_Keyboard Shortcuts"));

  gtk_window_set_default_size (GTK_WINDOW (window), 640, 560);
  casement_test_spin (300);
  g_assert_cmpint (surface_width (window), ==, 640);
  screenshot (window, "library-empty-640");
  gtk_window_set_default_size (GTK_WINDOW (window), 960, 640);

  if (problems[0] != NULL)
    {
      gtk_widget_activate_action (GTK_WIDGET (window), "win.dismiss-problems", NULL);
      g_assert_false (gtk_revealer_get_reveal_child (revealer));
    }
}

static void
test_ui_shortcuts (void)
{
  static const struct { const char *action; const char *accel; } accels[] = {
    { "app.new-vm", "<Control>n" },
    { "app.preferences", "<Control>comma" },
    { "app.quit", "<Control>q" },
    { "win.show-help-overlay", "<Control>question" },
  };
  GSettings *settings = casement_application_get_default_settings ();
  CasementWindow *window = library_window ();
  GtkShortcutsWindow *shortcuts = NULL;
  g_autofree char *accelerator = NULL;
  GtkWidget *release;

  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    {
      g_auto(GStrv) set = gtk_application_get_accels_for_action (GTK_APPLICATION (app), accels[i].action);

      g_assert_nonnull (set[0]);
      g_assert_cmpstr (set[0], ==, accels[i].accel);
    }

  /* Ctrl+? as the user presses it. */
  focus_window (GTK_WINDOW (window));
  xdo ("key", "ctrl+question", NULL);
  CASEMENT_TEST_WAIT_UNTIL ((shortcuts = find_toplevel (GTK_TYPE_SHORTCUTS_WINDOW)) != NULL, STEP_TIMEOUT_S,
              "the shortcuts window");
  g_assert_true (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)) == shortcuts);
  screenshot (shortcuts, "shortcuts");

  /* The release shortcut is the user's, as it changes. */
  release = find_buildable (GTK_WIDGET (shortcuts), "release_shortcut");
  g_assert_nonnull (release);
  g_object_get (release, "accelerator", &accelerator, NULL);
  g_assert_cmpstr (accelerator, ==, "<Control><Alt>g");
  g_settings_set_string (settings, "release-shortcut", "<Control><Alt>k");
  g_clear_pointer (&accelerator, g_free);
  g_object_get (release, "accelerator", &accelerator, NULL);
  g_assert_cmpstr (accelerator, ==, "<Control><Alt>k");
  screenshot (shortcuts, "shortcuts-release-changed");
  g_settings_reset (settings, "release-shortcut");

  gtk_window_close (GTK_WINDOW (shortcuts));
  casement_test_spin (200);
}

static void
test_ui_preferences (void)
{
  GSettings *settings = casement_application_get_default_settings ();
  CasementWindow *window = library_window ();
  g_autofree char *folder = g_build_filename (casement_test_guest_env_get_dir (env), "VMs, elsewhere", NULL);
  CasementPreferences *preferences = NULL;
  AdwMessageDialog *capture;
  GtkSpinButton *timeout_spin;
  GtkSwitch *tray_switch;
  AdwActionRow *folder_row;
  GtkShortcutLabel *shortcut_label;
  g_autofree char *value = NULL;

  /* The build's schema, in memory: the application found it. */
  g_assert_nonnull (settings);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);

  focus_window (GTK_WINDOW (window));
  xdo ("key", "ctrl+comma", NULL);
  CASEMENT_TEST_WAIT_UNTIL ((preferences = find_toplevel (CASEMENT_TYPE_PREFERENCES)) != NULL, STEP_TIMEOUT_S,
              "the preferences");
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (preferences)));
  g_assert_false (gtk_widget_get_visible (template_child (preferences, CASEMENT_TYPE_PREFERENCES, "note_group")));

  timeout_spin = template_child (preferences, CASEMENT_TYPE_PREFERENCES, "timeout_spin");
  tray_switch = template_child (preferences, CASEMENT_TYPE_PREFERENCES, "tray_switch");
  folder_row = template_child (preferences, CASEMENT_TYPE_PREFERENCES, "folder_row");
  shortcut_label = template_child (preferences, CASEMENT_TYPE_PREFERENCES, "shortcut_label");

  /* Both ways, at once. */
  g_assert_cmpint (gtk_spin_button_get_value_as_int (timeout_spin), ==, 60);
  gtk_spin_button_set_value (timeout_spin, 45);
  g_assert_cmpuint (g_settings_get_uint (settings, "shutdown-timeout"), ==, 45);
  g_settings_set_uint (settings, "shutdown-timeout", 30);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (timeout_spin), ==, 30);
  g_settings_reset (settings, "shutdown-timeout");

  g_assert_true (gtk_switch_get_active (tray_switch));
  gtk_switch_set_active (tray_switch, FALSE);
  g_assert_false (g_settings_get_boolean (settings, "show-tray"));
  gtk_switch_set_active (tray_switch, TRUE);
  g_assert_true (g_settings_get_boolean (settings, "show-tray"));

  /* The folder for VMs, picked in a file chooser; the default again. */
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (folder_row), "default"));
  screenshot (preferences, "preferences");
  gtk_widget_activate_action (GTK_WIDGET (preferences), "preferences.choose-folder", NULL);
  choose_file (folder);
  value = g_settings_get_string (settings, "vm-folder");
  g_assert_cmpstr (value, ==, folder);
  g_assert_cmpstr (adw_action_row_get_subtitle (folder_row), ==, folder);
  screenshot (preferences, "preferences-folder");
  gtk_widget_activate_action (GTK_WIDGET (preferences), "preferences.reset-folder", NULL);
  g_clear_pointer (&value, g_free);
  value = g_settings_get_string (settings, "vm-folder");
  g_assert_cmpstr (value, ==, "");

  /* A new release shortcut, pressed for real; a plain key is refused. */
  gtk_widget_activate_action (GTK_WIDGET (preferences), "preferences.change-shortcut", NULL);
  capture = wait_message_dialog (GTK_WINDOW (preferences));
  focus_window (GTK_WINDOW (capture));
  screenshot (capture, "preferences-shortcut");
  xdo ("key", "k", NULL);
  g_assert_true (toplevel_exists (capture));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (capture), "belongs to the guest"));
  g_clear_pointer (&value, g_free);
  value = g_settings_get_string (settings, "release-shortcut");
  g_assert_cmpstr (value, ==, "<Control><Alt>g");
  xdo ("key", "ctrl+alt+k", NULL);
  CASEMENT_TEST_WAIT_UNTIL (!toplevel_exists (capture), STEP_TIMEOUT_S, "the shortcut dialog to close");
  g_clear_pointer (&value, g_free);
  value = g_settings_get_string (settings, "release-shortcut");
  g_assert_cmpstr (value, ==, "<Control><Alt>k");
  g_assert_cmpstr (gtk_shortcut_label_get_accelerator (shortcut_label), ==, "<Control><Alt>k");
  g_assert_true (gtk_widget_get_visible (template_child (preferences, CASEMENT_TYPE_PREFERENCES,
                                                         "shortcut_reset_button")));
  screenshot (preferences, "preferences-changed");
  gtk_widget_activate_action (GTK_WIDGET (preferences), "preferences.reset-shortcut", NULL);
  g_clear_pointer (&value, g_free);
  value = g_settings_get_string (settings, "release-shortcut");
  g_assert_cmpstr (value, ==, "<Control><Alt>g");

  gtk_window_destroy (GTK_WINDOW (preferences));

  /* A build without the schema says so, and offers nothing to change. */
  preferences = casement_preferences_new (GTK_WINDOW (window), NULL);
  gtk_window_present (GTK_WINDOW (preferences));
  casement_test_spin (300);
  g_assert_true (gtk_widget_get_visible (template_child (preferences, CASEMENT_TYPE_PREFERENCES, "note_group")));
  g_assert_false (gtk_widget_is_sensitive (template_child (preferences, CASEMENT_TYPE_PREFERENCES, "vms_group")));
  g_assert_false (gtk_widget_is_sensitive (template_child (preferences, CASEMENT_TYPE_PREFERENCES,
                                                            "behaviour_group")));
  screenshot (preferences, "preferences-no-schema");
  gtk_window_destroy (GTK_WINDOW (preferences));
}

static void
record_state (CasementVm *vm,
              GParamSpec *pspec,
              GString    *states)
{
  g_string_append_printf (states, "%d,", casement_vm_get_state (vm));
}

/* Start from the library, the VM's window and its controls, checked
 * against what QEMU says; closing it while the VM runs, and reopening. */
static void
test_ui_vm_window (void)
{
  CasementVm *vm = add_guest ("UI Runner", NULL);
  CasementVmRow *row = find_row (vm);
  CasementVmWindow *window = NULL;
  CasementDisplay *display;
  GtkWidget *pause_button;
  AdwMessageDialog *dialog;
  g_autoptr(GString) states = g_string_new (NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) snapshots = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *thumbnail = casement_vm_row_dup_thumbnail_path (vm);
  g_autofree char *xid = NULL;
  g_autofree char *x = NULL;
  g_autofree char *y = NULL;
  const char *slug = casement_vm_get_slug (vm);
  gboolean found = FALSE;
  GPid pid;
  guint boots;
  guint shots;
  gulong handler;

  g_assert_nonnull (row);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Linux · Stopped");
  g_assert_true (action_enabled (row, "row.start", NULL));
  g_assert_true (menu_item_enabled (row, "S_ettings…"));
  g_assert_true (menu_item_enabled (row, "De_lete…"));
  g_assert_false (menu_item_enabled (row, "Shut _Down"));
  screenshot (library_window (), "library-vms");
  screenshot_menu (row, "view-more-symbolic", "library-row-menu");

  /* Started from the library */
  gtk_widget_activate_action (GTK_WIDGET (row), "row.start", NULL);
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, BOOT_TIMEOUT_S);
  g_assert_true (qmp_status_is (vm, "running"));
  g_assert_false (action_enabled (row, "row.start", NULL));
  g_assert_false (menu_item_enabled (row, "S_ettings…"));
  g_assert_false (menu_item_enabled (row, "De_lete…"));
  g_assert_true (menu_item_enabled (row, "Shut _Down"));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Linux · Running");

  /* Its window, with the guest's screen live */
  gtk_widget_activate_action (GTK_WIDGET (row), "row.open", NULL);
  CASEMENT_TEST_WAIT_UNTIL ((window = find_vm_window (vm)) != NULL, STEP_TIMEOUT_S, "the VM window");
  display = CASEMENT_DISPLAY (casement_vm_window_get_display (window));
  wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S);
  CASEMENT_TEST_WAIT_UNTIL (casement_display_get_state (display) == CASEMENT_DISPLAY_STATE_RUNNING, STEP_TIMEOUT_S,
              "the guest's screen");
  g_assert_true (menu_item_enabled (window, "_Shut Down"));
  g_assert_true (menu_item_enabled (window, "_Reset"));
  g_assert_false (menu_item_enabled (window, "S_ettings…"));
  casement_test_spin (1000);
  screenshot (window, "vm-window");
  screenshot_menu (window, "system-shutdown-symbolic", "vm-window-power-menu");
  screenshot_menu (window, "view-more-symbolic", "vm-window-main-menu");

  /* Pause and resume: QEMU's state, the toggle and the controls follow. */
  pause_button = template_child (window, CASEMENT_TYPE_VM_WINDOW, "pause_button");
  gtk_widget_activate_action (GTK_WIDGET (window), "vm.paused", NULL);
  wait_state (vm, CASEMENT_VM_STATE_PAUSED, STEP_TIMEOUT_S);
  g_assert_true (qmp_status_is (vm, "paused"));
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (pause_button)));
  g_assert_false (menu_item_enabled (window, "_Shut Down"));
  g_assert_true (menu_item_enabled (window, "_Force Off"));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (pause_button), ==, "Resume");
  screenshot (window, "vm-window-paused");
  gtk_widget_activate_action (GTK_WIDGET (window), "vm.paused", NULL);
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, STEP_TIMEOUT_S);
  g_assert_true (qmp_status_is (vm, "running"));
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (pause_button)));
  g_assert_true (menu_item_enabled (window, "_Shut Down"));

  /* The window's shortcuts work while the display has the focus but not
   * the keyboard... */
  focus_window (GTK_WINDOW (window));
  gtk_widget_grab_focus (GTK_WIDGET (display));
  g_assert_false (casement_display_get_keyboard_grabbed (display));
  xdo ("key", "ctrl+shift+p", NULL);
  wait_state (vm, CASEMENT_VM_STATE_PAUSED, STEP_TIMEOUT_S);
  g_assert_true (qmp_status_is (vm, "paused"));
  xdo ("key", "ctrl+shift+p", NULL);
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, STEP_TIMEOUT_S);

  /* Sized so that the guest shows 1:1, the frame goes straight to the X
   * server (GTK draws with cairo here)... The window's default size is
   * not quite its size (decorations): grow it by what the display lacks. */
  for (guint attempt = 0; attempt < 3 && !casement_display_get_presenting (display); attempt++)
    {
      int width, height;

      gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
      gtk_window_set_default_size (GTK_WINDOW (window),
                                   width + 1280 - gtk_widget_get_width (GTK_WIDGET (display)),
                                   height + 800 - gtk_widget_get_height (GTK_WIDGET (display)));
      casement_test_spin (1500);
    }
  CASEMENT_TEST_WAIT_UNTIL (casement_display_get_presenting (display), STEP_TIMEOUT_S, "frames on the X11 path");
  screenshot (window, "vm-window-1to1");

  shots = count_pngs (pictures_dir);
  xdo ("key", "ctrl+shift+s", NULL);
  CASEMENT_TEST_WAIT_UNTIL (count_pngs (pictures_dir) == shots + 1, STEP_TIMEOUT_S, "a screenshot in Pictures");
  {
    g_autoptr(GPtrArray) pngs = list_pngs (pictures_dir);

    for (guint i = 0; i < pngs->len; i++)
      {
        g_test_message ("Screenshot in Pictures: %s", (char *) g_ptr_array_index (pngs, i));
        g_assert_true (is_png (g_ptr_array_index (pngs, i)));
      }
  }

  /* ... and steps aside while a toast is over it, or the toast would be
   * hidden under the frame's window. */
  wait_text (window, "Screenshot saved to Pictures", STEP_TIMEOUT_S);
  g_assert_false (casement_display_get_presenting (display));
  screenshot (window, "vm-window-toast");
  CASEMENT_TEST_WAIT_UNTIL (casement_display_get_presenting (display), 2 * STEP_TIMEOUT_S, "the toast to go");

  /* ... and not once the guest has it: then the keys are the guest's. */
  xid = window_xid (GTK_WINDOW (window));
  {
    graphene_point_t centre;

    g_assert_true (gtk_widget_compute_point (GTK_WIDGET (display), GTK_WIDGET (window),
                                             &GRAPHENE_POINT_INIT (gtk_widget_get_width (GTK_WIDGET (display)) / 2,
                                                                   gtk_widget_get_height (GTK_WIDGET (display)) / 2),
                                             &centre));
    x = g_strdup_printf ("%d", (int) centre.x);
    y = g_strdup_printf ("%d", (int) centre.y);
  }
  xdo ("mousemove", "--window", xid, x, y, NULL);
  xdo ("click", "1", NULL);
  CASEMENT_TEST_WAIT_UNTIL (casement_display_get_keyboard_grabbed (display), STEP_TIMEOUT_S, "the keyboard grab");
  xdo ("key", "ctrl+shift+p", NULL);
  casement_test_spin (1500);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  g_assert_true (qmp_status_is (vm, "running"));
  xdo ("key", "ctrl+alt+g", NULL);
  CASEMENT_TEST_WAIT_UNTIL (!casement_display_get_keyboard_grabbed (display), STEP_TIMEOUT_S, "the keyboard release");
  xdo ("mousemove", "0", "0", NULL);

  /* The release shortcut follows the preference, in open windows too. */
  g_settings_set_string (casement_application_get_default_settings (), "release-shortcut", "<Control><Alt>k");
  g_assert_cmpstr (casement_display_get_release_shortcut (display), ==, "<Control><Alt>k");
  g_settings_reset (casement_application_get_default_settings (), "release-shortcut");
  g_assert_cmpstr (casement_display_get_release_shortcut (display), ==, "<Control><Alt>g");

  /* Reset: the guest boots again. */
  boots = count_serial (vm, "TG: ready");
  gtk_widget_activate_action (GTK_WIDGET (window), "vm.reset", NULL);
  CASEMENT_TEST_WAIT_UNTIL (count_serial (vm, "TG: ready") == boots + 1, BOOT_TIMEOUT_S, "the guest to boot again");
  g_assert_true (qmp_status_is (vm, "running"));

  /* CDs: eject, change through the file chooser, the driver disc. */
  g_assert_true (cd_holds (vm, "cd-install", disc_a));
  g_assert_true (cd_holds (vm, "cd-drivers", disc_b));
  gtk_widget_activate_action (GTK_WIDGET (window), "vm.eject", "s", "cd-install");
  CASEMENT_TEST_WAIT_UNTIL (cd_holds (vm, "cd-install", NULL), STEP_TIMEOUT_S, "the install CD to be ejected");
  gtk_widget_activate_action (GTK_WIDGET (window), "vm.change-cd", "s", "cd-install");
  choose_file (disc_b);
  CASEMENT_TEST_WAIT_UNTIL (cd_holds (vm, "cd-install", disc_b), STEP_TIMEOUT_S, "the other disc in the install drive");
  gtk_widget_activate_action (GTK_WIDGET (window), "vm.eject", "s", "cd-drivers");
  CASEMENT_TEST_WAIT_UNTIL (cd_holds (vm, "cd-drivers", NULL), STEP_TIMEOUT_S, "the driver CD to be ejected");
  g_assert_true (menu_item_enabled (window, "Insert _Driver CD"));
  gtk_widget_activate_action (GTK_WIDGET (window), "vm.insert-drivers", NULL);
  CASEMENT_TEST_WAIT_UNTIL (cd_holds (vm, "cd-drivers", disc_b), STEP_TIMEOUT_S, "the driver disc back");

  /* A snapshot, taken and reverted to through the window. */
  gtk_widget_activate_action (GTK_WIDGET (window), "vm.snapshot-create", NULL);
  dialog = wait_message_dialog (GTK_WINDOW (window));
  gtk_editable_set_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog)), "ui-snapshot");
  screenshot (dialog, "vm-window-snapshot");
  click_response (dialog, "_Take Snapshot");
  wait_text (window, "Done", BOOT_TIMEOUT_S);
  g_assert_false (shows_text (GTK_WIDGET (window), "Snapshot failed"));
  casement_vm_snapshot_list_async (vm, NULL, casement_test_store_result_cb, &result);
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, "the snapshot list");
  snapshots = casement_vm_snapshot_list_finish (vm, result, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < snapshots->len; i++)
    found |= g_str_equal (((CasementVmSnapshot *) g_ptr_array_index (snapshots, i))->name, "ui-snapshot");
  g_assert_true (found);
  CASEMENT_TEST_WAIT_UNTIL (!shows_text (GTK_WIDGET (window), "Done"), STEP_TIMEOUT_S, "the toast to go");

  handler = g_signal_connect (vm, "notify::state", G_CALLBACK (record_state), states);
  gtk_widget_activate_action (GTK_WIDGET (window), "vm.snapshot-revert", "s", "ui-snapshot");
  wait_text (window, "Done", BOOT_TIMEOUT_S);
  g_signal_handler_disconnect (vm, handler);
  g_assert_false (shows_text (GTK_WIDGET (window), "Snapshot failed"));
  g_test_message ("States while reverting: %s", states->str);
  g_assert_true (qmp_status_is (vm, "running"));

  /* Closed while running, kept running: QEMU lives on, the library says
   * so and shows the guest's last screen. */
  pid = casement_vm_get_pid (vm);
  g_assert_cmpint (pid, >, 0);
  gtk_window_close (GTK_WINDOW (window));
  dialog = wait_message_dialog (GTK_WINDOW (window));
  screenshot (dialog, "vm-window-close");
  click_response (dialog, "_Keep Running");
  CASEMENT_TEST_WAIT_UNTIL (find_vm_window (vm) == NULL, STEP_TIMEOUT_S, "the VM window to close");
  window = NULL;
  CASEMENT_TEST_WAIT_UNTIL (g_file_test (thumbnail, G_FILE_TEST_EXISTS), STEP_TIMEOUT_S, "the thumbnail");
  g_assert_true (is_png (thumbnail));
  row = find_row (vm);
  CASEMENT_TEST_WAIT_UNTIL (g_strcmp0 (gtk_stack_get_visible_child_name (template_child (row, CASEMENT_TYPE_VM_ROW,
                                                                           "thumbnail_stack")),
                         "thumbnail") == 0,
              STEP_TIMEOUT_S, "the row to show the thumbnail");
  g_assert_true (casement_test_pid_alive (pid));
  g_assert_true (qmp_status_is (vm, "running"));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Linux · Running");
  screenshot (library_window (), "library-running");

  /* Opened again: the window finds the running guest. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-vm", g_variant_new_string (slug));
  CASEMENT_TEST_WAIT_UNTIL ((window = find_vm_window (vm)) != NULL, STEP_TIMEOUT_S, "the VM window again");
  display = CASEMENT_DISPLAY (casement_vm_window_get_display (window));
  CASEMENT_TEST_WAIT_UNTIL (casement_display_get_state (display) == CASEMENT_DISPLAY_STATE_RUNNING, STEP_TIMEOUT_S,
              "the guest's screen again");
  g_assert_cmpint (casement_vm_get_pid (vm), ==, pid);

  /* Shut down from the window: the guest powers off. */
  gtk_widget_activate_action (GTK_WIDGET (window), "vm.shut-down", NULL);
  wait_state (vm, CASEMENT_VM_STATE_STOPPED, BOOT_TIMEOUT_S);
  wait_serial (vm, "TG: powerdown", STEP_TIMEOUT_S);
  g_assert_false (casement_test_pid_alive (pid));
  g_assert_true (action_enabled (window, "vm.start", NULL));
  g_assert_true (menu_item_enabled (window, "S_ettings…"));
  g_assert_false (menu_item_enabled (window, "_Shut Down"));
  screenshot (window, "vm-window-stopped");

  /* Not running: closing asks nothing. */
  gtk_window_close (GTK_WINDOW (window));
  CASEMENT_TEST_WAIT_UNTIL (find_vm_window (vm) == NULL, STEP_TIMEOUT_S, "the stopped VM's window to close");
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);
}

/* The shutdown timeout of the preferences reaches the shutdown: a guest
 * that ignores the power button is offered force off after it. */
static void
test_ui_shutdown_timeout (void)
{
  GSettings *settings = casement_application_get_default_settings ();
  CasementVm *vm = add_guest ("UI Stubborn", "tg.ignore_powerdown=1");
  CasementVmRow *row = find_row (vm);
  GtkWidget *force;
  gint64 asked;
  gint64 offered;

  g_settings_set_uint (settings, "shutdown-timeout", 5);

  gtk_widget_activate_action (GTK_WIDGET (row), "row.start", NULL);
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, BOOT_TIMEOUT_S);
  wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S);

  asked = g_get_monotonic_time ();
  gtk_widget_activate_action (GTK_WIDGET (row), "row.shut-down", NULL);
  wait_text (library_window (), "did not shut down", STEP_TIMEOUT_S);
  offered = g_get_monotonic_time ();
  wait_serial (vm, "TG: powerdown ignored", STEP_TIMEOUT_S);
  g_test_message ("Force off offered %.1f s after Shut Down", (offered - asked) / (double) G_USEC_PER_SEC);
  g_assert_cmpint (offered - asked, >=, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (offered - asked, <, 30 * G_USEC_PER_SEC);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  screenshot (library_window (), "library-force-off-offered");

  /* The toast's button does it. */
  force = find_actionable (GTK_WIDGET (library_window ()), "app.force-off-vm", casement_vm_get_slug (vm));
  g_assert_nonnull (force);
  g_assert_true (gtk_widget_is_sensitive (force));
  g_signal_emit_by_name (force, "clicked");
  wait_state (vm, CASEMENT_VM_STATE_STOPPED, STEP_TIMEOUT_S);
  g_settings_reset (settings, "shutdown-timeout");
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);
}

static guint64
disk_virtual_size (CasementVm *vm)
{
  g_autofree char *vm_dir = casement_vm_dup_vm_dir (vm);
  g_autofree char *path = g_build_filename (vm_dir, "disk.qcow2", NULL);
  g_autoptr(GFile) disk = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CasementQemuImgInfo) info = { 0 };

  casement_qemu_img_info_async (disk, NULL, casement_test_store_result_cb, &result);
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, "qemu-img info");
  g_assert_true (casement_qemu_img_info_finish (result, &info, &error));
  g_assert_no_error (error);

  return info.virtual_size;
}

/* Every change saved to vm.json as it is made; what the config refuses
 * is said, and kept in the window for the user to fix. */
static void
test_ui_settings (void)
{
  CasementVm *vm = add_guest ("UI Settings", NULL);
  g_autofree char *share = g_build_filename (casement_test_guest_env_get_dir (env), "Shared, with a comma", NULL);
  g_autoptr(CasementVmConfig) config = NULL;
  CasementVmSettings *settings = open_settings (vm);
  CasementHost *host = casement_window_get_host (library_window ());
  GtkSpinButton *cpus = settings_child (settings, "cpus_spin");
  GtkSpinButton *memory = settings_child (settings, "memory_spin");
  GtkSpinButton *disk = settings_child (settings, "disk_spin");
  AdwEntryRow *name = settings_child (settings, "name_row");
  AdwComboRow *method = settings_child (settings, "share_method_row");
  AdwExpanderRow *forwards = settings_child (settings, "forwards_row");
  GtkWidget *remove;

  g_assert_cmpint (g_mkdir_with_parents (share, 0755), ==, 0);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (settings)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (settings)) == GTK_WINDOW (library_window ()));

  /* One window per VM: asking again brings it back. */
  g_assert_true (casement_vm_settings_show (NULL, vm, NULL) == settings);

  /* The bounds are the host's. */
  g_assert_cmpfloat (gtk_adjustment_get_upper (gtk_spin_button_get_adjustment (cpus)), ==,
                     MAX (casement_host_get_cpu_threads (host), 1));
  g_assert_cmpfloat (gtk_adjustment_get_upper (gtk_spin_button_get_adjustment (memory)), ==,
                     casement_host_get_memory_mib (host));
  g_assert_cmpint (gtk_spin_button_get_value_as_int (memory), ==, 512);
  screenshot (settings, "settings-general");

  /* Name: the library shows the new one. */
  gtk_editable_set_text (GTK_EDITABLE (name), "UI Settings Renamed");
  g_signal_emit_by_name (name, "apply");
  settle_settings (settings);
  g_assert_null (casement_vm_settings_get_error (settings));
  config = load_config (vm);
  g_assert_cmpstr (casement_vm_config_get_name (config), ==, "UI Settings Renamed");
  CASEMENT_TEST_WAIT_UNTIL (g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (find_row (vm))),
                         "UI Settings Renamed") == 0,
              STEP_TIMEOUT_S, "the library to show the new name");

  /* Another VM's name is taken; an empty one is no name. Both stay in
   * the window, and vm.json keeps the last good one. */
  add_stub ("UI Neighbour", "win11");
  gtk_editable_set_text (GTK_EDITABLE (name), "UI Neighbour");
  g_signal_emit_by_name (name, "apply");
  settle_settings (settings);
  assert_error_says (settings, "Another virtual machine is called “UI Neighbour”");
  gtk_editable_set_text (GTK_EDITABLE (name), "");
  g_signal_emit_by_name (name, "apply");
  settle_settings (settings);
  g_assert_nonnull (casement_vm_settings_get_error (settings));
  g_test_message ("An empty name: %s", casement_vm_settings_get_error (settings));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (name)), ==, "");
  screenshot (settings, "settings-error");
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpstr (casement_vm_config_get_name (config), ==, "UI Settings Renamed");
  gtk_editable_set_text (GTK_EDITABLE (name), "UI Settings Renamed");
  g_signal_emit_by_name (name, "apply");
  settle_settings (settings);
  g_assert_null (casement_vm_settings_get_error (settings));

  /* Hardware */
  gtk_spin_button_set_value (cpus, 2);
  gtk_spin_button_set_value (memory, 768);
  settle_settings (settings);
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpuint (casement_vm_config_get_cpus (config), ==, MIN (2, casement_host_get_cpu_threads (host)));
  g_assert_cmpuint (casement_vm_config_get_memory_mib (config), ==, 768);

  /* Security: Secure Boot on and off again (the test guest's kernel is
   * not signed); no warning for a guest that is not Windows 11. */
  gtk_switch_set_active (settings_child (settings, "secure_boot_switch"), TRUE);
  settle_settings (settings);
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_true (casement_vm_config_get_secure_boot (config));
  g_assert_false (gtk_widget_get_visible (settings_child (settings, "security_warning")));
  gtk_switch_set_active (settings_child (settings, "secure_boot_switch"), FALSE);
  settle_settings (settings);
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_false (casement_vm_config_get_secure_boot (config));

  /* The disk grows, never shrinks. */
  g_assert_cmpuint (disk_virtual_size (vm), ==, 64 * MIB);
  CASEMENT_TEST_WAIT_UNTIL (gtk_widget_is_sensitive (settings_child (settings, "grow_button")), STEP_TIMEOUT_S,
              "the disk's size");
  /* g_format_size() puts a no-break space before the unit. */
  g_assert_true (g_str_has_prefix (adw_expander_row_get_subtitle (settings_child (settings, "disk_row")),
                                   "64.0\u00a0MiB,"));
  gtk_spin_button_set_value (disk, 0);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (disk), ==, 1);
  adw_expander_row_set_expanded (settings_child (settings, "disk_row"), TRUE);
  screenshot (settings, "settings-disk");
  gtk_widget_activate_action (GTK_WIDGET (settings), "settings.grow-disk", NULL);
  g_assert_cmpint (casement_vm_settings_get_state (settings), ==, CASEMENT_VM_SETTINGS_STATE_GROWING);
  settle_settings (settings);
  g_assert_null (casement_vm_settings_get_error (settings));
  g_assert_cmpuint (disk_virtual_size (vm), ==, GIB);
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpuint (casement_vm_config_get_disk_size (config), ==, GIB);
  CASEMENT_TEST_WAIT_UNTIL (g_str_has_prefix (adw_expander_row_get_subtitle (settings_child (settings, "disk_row")), "1.0\u00a0GiB,"),
              STEP_TIMEOUT_S, "the new size");
  g_assert_false (gtk_widget_is_sensitive (settings_child (settings, "grow_button")));

  /* Sharing: a folder from the chooser, the method picked automatically
   * and why, another method, read-only, and no folder again. */
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (settings), "devices");
  gtk_widget_activate_action (GTK_WIDGET (settings), "settings.choose-file", "s", "share");
  choose_file (share);
  settle_settings (settings);
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpstr (casement_vm_config_get_share_folder (config), ==, share);
  g_assert_cmpint (casement_vm_config_get_share_method (config), ==, CASEMENT_SHARE_METHOD_AUTO);
  g_assert_true (g_str_has_prefix (adw_action_row_get_subtitle (ADW_ACTION_ROW (method)), "Shared through "));
  screenshot (settings, "settings-devices");
  adw_combo_row_set_selected (method, 3);
  settle_settings (settings);
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpint (casement_vm_config_get_share_method (config), ==, CASEMENT_SHARE_METHOD_WEBDAV);
  gtk_switch_set_active (settings_child (settings, "share_read_only_switch"), TRUE);
  settle_settings (settings);
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_true (casement_vm_config_get_share_read_only (config));
  gtk_widget_activate_action (GTK_WIDGET (settings), "settings.clear-file", "s", "share");
  settle_settings (settings);
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_null (casement_vm_config_get_share_folder (config));
  g_assert_cmpint (casement_vm_config_get_share_method (config), ==, CASEMENT_SHARE_METHOD_NONE);
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (method)));

  /* CD media */
  gtk_widget_activate_action (GTK_WIDGET (settings), "settings.clear-file", "s", "install-iso");
  settle_settings (settings);
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_null (casement_vm_config_get_install_iso (config));
  gtk_widget_activate_action (GTK_WIDGET (settings), "settings.choose-file", "s", "install-iso");
  choose_file (disc_a);
  settle_settings (settings);
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpstr (casement_vm_config_get_install_iso (config), ==, disc_a);

  /* Network and port forwards, checked as the config checks them. */
  gtk_switch_set_active (settings_child (settings, "network_switch"), TRUE);
  settle_settings (settings);
  adw_expander_row_set_expanded (forwards, TRUE);
  gtk_editable_set_text (GTK_EDITABLE (settings_child (settings, "forward_host_entry")), "8080");
  gtk_editable_set_text (GTK_EDITABLE (settings_child (settings, "forward_guest_entry")), "80");
  gtk_widget_activate_action (GTK_WIDGET (settings), "settings.add-forward", NULL);
  settle_settings (settings);
  g_assert_null (casement_vm_settings_get_error (settings));
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpint (casement_vm_config_get_network (config), ==, CASEMENT_NETWORK_USER);
  g_assert_cmpstrv (casement_vm_config_get_port_forwards (config), ((const char *[]) { "tcp:8080:80", NULL }));
  g_assert_nonnull (find_actionable (GTK_WIDGET (forwards), "settings.remove-forward", "tcp:8080:80"));

  gtk_editable_set_text (GTK_EDITABLE (settings_child (settings, "forward_host_entry")), "70000");
  gtk_editable_set_text (GTK_EDITABLE (settings_child (settings, "forward_guest_entry")), "22");
  gtk_widget_activate_action (GTK_WIDGET (settings), "settings.add-forward", NULL);
  g_assert_true (gtk_widget_has_css_class (settings_child (settings, "forward_host_entry"), "error"));
  g_assert_null (find_actionable (GTK_WIDGET (forwards), "settings.remove-forward", "tcp:70000:22"));

  gtk_editable_set_text (GTK_EDITABLE (settings_child (settings, "forward_host_entry")), "8080");
  gtk_editable_set_text (GTK_EDITABLE (settings_child (settings, "forward_guest_entry")), "8000");
  g_assert_false (gtk_widget_has_css_class (settings_child (settings, "forward_host_entry"), "error"));
  gtk_widget_activate_action (GTK_WIDGET (settings), "settings.add-forward", NULL);
  settle_settings (settings);
  assert_error_says (settings, "8080");
  g_assert_nonnull (find_actionable (GTK_WIDGET (forwards), "settings.remove-forward", "tcp:8080:8000"));
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpuint (g_strv_length ((char **) casement_vm_config_get_port_forwards (config)), ==, 1);
  screenshot (settings, "settings-forwards");

  remove = find_actionable (GTK_WIDGET (forwards), "settings.remove-forward", "tcp:8080:8000");
  g_signal_emit_by_name (remove, "clicked");
  settle_settings (settings);
  g_assert_null (casement_vm_settings_get_error (settings));

  /* No network with forwards left is refused, until they go too. */
  gtk_switch_set_active (settings_child (settings, "network_switch"), FALSE);
  settle_settings (settings);
  assert_error_says (settings, "network");
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpint (casement_vm_config_get_network (config), ==, CASEMENT_NETWORK_USER);
  remove = find_actionable (GTK_WIDGET (forwards), "settings.remove-forward", "tcp:8080:80");
  g_signal_emit_by_name (remove, "clicked");
  settle_settings (settings);
  g_assert_null (casement_vm_settings_get_error (settings));
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpint (casement_vm_config_get_network (config), ==, CASEMENT_NETWORK_NONE);
  g_assert_cmpuint (g_strv_length ((char **) casement_vm_config_get_port_forwards (config)), ==, 0);

  /* Started meanwhile (from the library): nothing can change until it stops. */
  gtk_widget_activate_action (GTK_WIDGET (find_row (vm)), "row.start", NULL);
  CASEMENT_TEST_WAIT_UNTIL (casement_vm_settings_get_state (settings) == CASEMENT_VM_SETTINGS_STATE_LOCKED,
              BOOT_TIMEOUT_S, "the settings to lock");
  g_assert_false (gtk_widget_is_sensitive (settings_child (settings, "hardware_group")));
  g_assert_true (gtk_widget_get_visible (settings_child (settings, "status_group")));
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, BOOT_TIMEOUT_S);
  screenshot (settings, "settings-locked");
  force_off (vm);
  CASEMENT_TEST_WAIT_UNTIL (settings_idle (settings), STEP_TIMEOUT_S, "the settings to unlock");
  g_assert_true (gtk_widget_is_sensitive (settings_child (settings, "hardware_group")));

  gtk_window_destroy (GTK_WINDOW (settings));
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);
}

/* A Windows 11 VM warns when its TPM or Secure Boot goes, and the config
 * refuses what Windows 11 cannot do without. */
static void
test_ui_settings_windows (void)
{
  CasementVm *vm = add_stub ("UI Eleven", "win11");
  g_autoptr(CasementVmConfig) config = NULL;
  CasementVmSettings *settings = open_settings (vm);
  GtkWidget *warning = settings_child (settings, "security_warning");

  g_assert_cmpstr (adw_action_row_get_subtitle (settings_child (settings, "os_row")), ==, "Windows 11");
  g_assert_false (gtk_widget_get_visible (warning));

  gtk_switch_set_active (settings_child (settings, "secure_boot_switch"), FALSE);
  settle_settings (settings);
  g_assert_true (gtk_widget_get_visible (warning));
  g_assert_null (casement_vm_settings_get_error (settings));
  config = load_config (vm);
  g_assert_false (casement_vm_config_get_secure_boot (config));

  gtk_switch_set_active (settings_child (settings, "tpm_switch"), FALSE);
  settle_settings (settings);
  assert_error_says (settings, "TPM");
  g_assert_false (gtk_switch_get_active (settings_child (settings, "tpm_switch")));
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_true (casement_vm_config_get_tpm (config));
  screenshot (settings, "settings-windows-11");

  gtk_switch_set_active (settings_child (settings, "tpm_switch"), TRUE);
  gtk_switch_set_active (settings_child (settings, "secure_boot_switch"), TRUE);
  settle_settings (settings);
  g_assert_null (casement_vm_settings_get_error (settings));
  g_assert_false (gtk_widget_get_visible (warning));

  /* Below Microsoft's minimum memory */
  gtk_spin_button_set_value (settings_child (settings, "memory_spin"), 2048);
  settle_settings (settings);
  assert_error_says (settings, "Windows 11 needs at least");
  g_clear_object (&config);
  config = load_config (vm);
  g_assert_cmpuint (casement_vm_config_get_memory_mib (config), >=, 4096);

  gtk_window_destroy (GTK_WINDOW (settings));

  /* An unreadable vm.json is said so, and left as it is. */
  {
    g_autofree char *vm_dir = casement_vm_dup_vm_dir (vm);
    g_autofree char *json = g_build_filename (vm_dir, CASEMENT_VM_CONFIG_FILE, NULL);
    g_autofree char *after = NULL;
    g_autoptr(GError) error = NULL;

    g_file_set_contents (json, "{ not json", -1, &error);
    g_assert_no_error (error);
    settings = casement_vm_settings_show (GTK_WINDOW (library_window ()), vm, NULL);
    CASEMENT_TEST_WAIT_UNTIL (casement_vm_settings_get_state (settings) == CASEMENT_VM_SETTINGS_STATE_BROKEN,
                STEP_TIMEOUT_S, "the settings to fail to load");
    g_assert_true (gtk_widget_get_visible (settings_child (settings, "status_group")));
    g_assert_false (gtk_widget_is_sensitive (settings_child (settings, "hardware_group")));
    screenshot (settings, "settings-broken");
    gtk_window_destroy (GTK_WINDOW (settings));
    g_file_get_contents (json, &after, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (after, ==, "{ not json");
  }
}

/* Deleting: with the disk kept, or all of it; never while it runs. */
static void
test_ui_delete (void)
{
  const char *root = casement_vm_store_get_root (store ());
  CasementVm *keeper = add_guest ("UI Keeper", NULL);
  CasementVm *doomed = add_stub ("UI Doomed", "win10");
  g_autofree char *keeper_slug = g_strdup (casement_vm_get_slug (keeper));
  g_autofree char *doomed_slug = g_strdup (casement_vm_get_slug (doomed));
  g_autofree char *keeper_dir = casement_vm_dup_vm_dir (keeper);
  g_autofree char *doomed_dir = casement_vm_dup_vm_dir (doomed);
  g_autofree char *kept_name = g_strdup_printf ("%s.qcow2", keeper_slug);
  g_autofree char *kept = g_build_filename (root, kept_name, NULL);
  g_autofree char *doomed_disk_name = g_strdup_printf ("%s.qcow2", doomed_slug);
  g_autofree char *doomed_disk = g_build_filename (root, doomed_disk_name, NULL);
  CasementWindow *window = library_window ();
  AdwMessageDialog *dialog;
  guint rows = count_rows ();

  gtk_widget_activate_action (GTK_WIDGET (find_row (keeper)), "row.delete", NULL);
  dialog = wait_message_dialog (GTK_WINDOW (window));
  screenshot (dialog, "delete");
  click_response (dialog, "Delete, _Keep Disk");
  CASEMENT_TEST_WAIT_UNTIL (count_rows () == rows - 1 && lookup_vm (keeper_slug) == NULL, STEP_TIMEOUT_S,
              "the VM to leave the library");
  CASEMENT_TEST_WAIT_UNTIL (!g_file_test (keeper_dir, G_FILE_TEST_EXISTS), STEP_TIMEOUT_S, "its folder to go");
  g_assert_true (g_file_test (kept, G_FILE_TEST_IS_REGULAR));
  wait_text (window, "its disk is kept", STEP_TIMEOUT_S);
  screenshot (window, "library-deleted");

  gtk_widget_activate_action (GTK_WIDGET (find_row (doomed)), "row.delete", NULL);
  dialog = wait_message_dialog (GTK_WINDOW (window));
  click_response (dialog, "_Delete Everything");
  CASEMENT_TEST_WAIT_UNTIL (lookup_vm (doomed_slug) == NULL, STEP_TIMEOUT_S, "the second VM to go");
  CASEMENT_TEST_WAIT_UNTIL (!g_file_test (doomed_dir, G_FILE_TEST_EXISTS), STEP_TIMEOUT_S, "its folder to go");
  g_assert_false (g_file_test (doomed_disk, G_FILE_TEST_EXISTS));

  g_assert_cmpint (g_unlink (kept), ==, 0);
}

/* Search, by name, in a library with many VMs. */
static void
test_ui_search (void)
{
  static const char *names[] = { "UI Alpha", "UI Beta", "UI Gamma", "UI Delta", "UI Epsilon", "UI Zeta" };
  CasementWindow *window = library_window ();
  GtkSearchEntry *entry = template_child (window, CASEMENT_TYPE_WINDOW, "search_entry");
  GtkStack *stack = template_child (window, CASEMENT_TYPE_WINDOW, "stack");
  GtkSearchBar *bar = template_child (window, CASEMENT_TYPE_WINDOW, "search_bar");
  guint all;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    add_stub (names[i], "win11");
  all = count_rows ();
  g_assert_cmpuint (all, >=, G_N_ELEMENTS (names));
  g_assert_true (gtk_widget_get_visible (template_child (window, CASEMENT_TYPE_WINDOW, "search_button")));

  focus_window (GTK_WINDOW (window));
  xdo ("key", "ctrl+f", NULL);
  CASEMENT_TEST_WAIT_UNTIL (gtk_search_bar_get_search_mode (bar), STEP_TIMEOUT_S, "the search bar");
  xdo ("type", "alp", NULL);
  CASEMENT_TEST_WAIT_UNTIL (count_rows () == 1, STEP_TIMEOUT_S, "one VM to match");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "alp");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "list");
  screenshot (window, "library-search");

  gtk_editable_set_text (GTK_EDITABLE (entry), "no such machine");
  CASEMENT_TEST_WAIT_UNTIL (g_strcmp0 (gtk_stack_get_visible_child_name (stack), "no-results") == 0, STEP_TIMEOUT_S,
              "the no-results page");
  screenshot (window, "library-search-none");

  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  CASEMENT_TEST_WAIT_UNTIL (count_rows () == all, STEP_TIMEOUT_S, "every VM back");
  gtk_search_bar_set_search_mode (bar, FALSE);
  screenshot (window, "library-many");
}

/* A new size, applied by showing the window anew: a window that came up
 * bigger than a small (2×) screen keeps the size X gave it otherwise. */
static void
resize (gpointer window,
        int      width,
        int      height)
{
  /* Not while it maps: GTK then keeps the size it maps with. */
  CASEMENT_TEST_WAIT_UNTIL (gtk_widget_get_mapped (window) && surface_width (window) > 1, STEP_TIMEOUT_S, "the window to show");
  casement_test_spin (300);
  gtk_widget_set_visible (GTK_WIDGET (window), FALSE);
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_present (GTK_WINDOW (window));
  CASEMENT_TEST_WAIT_UNTIL (gtk_widget_get_mapped (window), STEP_TIMEOUT_S, "the window to show again");
  casement_test_spin (300);
}

static CasementVm *
find_vm_named (const char *name)
{
  GtkWidget *list = template_child (library_window (), CASEMENT_TYPE_WINDOW, "vm_list");

  for (GtkWidget *child = gtk_widget_get_first_child (list); child; child = gtk_widget_get_next_sibling (child))
    {
      CasementVm *vm;

      if (!CASEMENT_IS_VM_ROW (child))
        continue;

      vm = casement_vm_row_get_vm (CASEMENT_VM_ROW (child));
      if (casement_vm_get_config (vm) != NULL &&
          g_str_equal (casement_vm_config_get_name (casement_vm_get_config (vm)), name))
        return vm;
    }

  return NULL;
}

/* What "casementctl list" prints, with the "vm-folder" preference set to
 * @vm_folder (NULL: the preferences of this test, where it is unset). */
static char *
casementctl_list (const char *vm_folder)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  if (vm_folder != NULL)
    {
      g_autofree char *config_dir = g_build_filename (casement_test_guest_env_get_dir (env), "ctl-config", NULL);
      g_autofree char *settings_dir = g_build_filename (config_dir, "glib-2.0", "settings", NULL);
      g_autofree char *keyfile = g_build_filename (settings_dir, "keyfile", NULL);
      g_autoptr(GVariant) value = g_variant_ref_sink (g_variant_new_string (vm_folder));
      g_autofree char *text = g_variant_print (value, FALSE);
      g_autofree char *contents = g_strdup_printf ("[io/github/casement/Casement]\nvm-folder=%s\n", text);

      g_assert_cmpint (g_mkdir_with_parents (settings_dir, 0700), ==, 0);
      g_file_set_contents (keyfile, contents, -1, &error);
      g_assert_no_error (error);
      g_subprocess_launcher_setenv (launcher, "GSETTINGS_BACKEND", "keyfile", TRUE);
      g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config_dir, TRUE);
    }

  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("CASEMENTCTL"), "list", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, casement_test_store_result_cb, &result);
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, "casementctl list");
  g_subprocess_communicate_utf8_finish (process, result, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);

  return out;
}

/* The "vm-folder" preference is where the library lives from the next
 * start on: a new process with it set lists that folder's VMs only. */
static void
test_ui_vm_folder (void)
{
  g_autofree char *folder = NULL;
  g_autoptr(CasementVmStore) elsewhere = NULL;
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *listed = NULL;

  if (g_test_subprocess ())
    {
      CasementVm *vm = NULL;

      CASEMENT_TEST_WAIT_UNTIL ((vm = find_vm_named ("UI Elsewhere")) != NULL, STEP_TIMEOUT_S, "the other folder's VM");
      g_assert_cmpstr (casement_vm_store_get_root (casement_vm_get_store (vm)), ==,
                       g_getenv ("CASEMENT_TEST_UI_VM_FOLDER"));
      casement_test_spin (500);
      g_assert_cmpuint (count_rows (), ==, 1);
      return;
    }

  folder = g_build_filename (casement_test_guest_env_get_dir (env), "Other VMs", NULL);
  elsewhere = casement_vm_store_new (folder);
  config = casement_vm_config_new ("UI Elsewhere");
  casement_vm_config_set_disk_size (config, 0);
  casement_vm_store_create_async (elsewhere, config, NULL, casement_test_store_result_cb, &result);
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, "VM creation");
  slug = casement_vm_store_create_finish (elsewhere, result, &error);
  g_assert_no_error (error);

  g_setenv ("CASEMENT_TEST_UI_VM_FOLDER", folder, TRUE);
  g_test_trap_subprocess (NULL, 3 * STEP_TIMEOUT_S * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("CASEMENT_TEST_UI_VM_FOLDER");
  g_test_trap_assert_passed ();

  /* This process started without it: its library is the default one. */
  g_assert_null (find_vm_named ("UI Elsewhere"));

  /* casementctl reads the same preference: set (in a key file, which
   * another process can read), it lists that folder; unset, the default. */
  listed = casementctl_list (NULL);
  g_assert_null (strstr (listed, "UI Elsewhere"));
  g_clear_pointer (&listed, g_free);
  listed = casementctl_list (folder);
  g_assert_nonnull (strstr (listed, "\tUI Elsewhere\n"));
}

/* The guest's screen in @window, and a moment for the channels SPICE
 * links after the display one: closing the window cuts their links, and
 * a link cut halfway makes spice-glib warn (fatal here). */
static void
wait_screen (CasementVmWindow *window)
{
  CasementDisplay *display = CASEMENT_DISPLAY (casement_vm_window_get_display (window));

  CASEMENT_TEST_WAIT_UNTIL (casement_display_get_state (display) == CASEMENT_DISPLAY_STATE_RUNNING, STEP_TIMEOUT_S,
              "the guest's screen");
  casement_test_spin (1500);
}

/* Closing a running VM's window with "Remember my choice" ticked: the
 * next close asks nothing and the VM runs on; the preferences show the
 * choice and undo it. */
static void
test_ui_close_remember (void)
{
  GSettings *settings = casement_application_get_default_settings ();
  CasementVm *vm = add_guest ("UI Remember", NULL);
  const char *slug = casement_vm_get_slug (vm);
  CasementPreferences *preferences = NULL;
  CasementVmWindow *window = NULL;
  AdwMessageDialog *dialog;
  AdwComboRow *close_row;
  GtkWidget *remember;
  g_autofree char *value = NULL;
  GPid pid;

  value = g_settings_get_string (settings, "close-action");
  g_assert_cmpstr (value, ==, "ask");

  gtk_widget_activate_action (GTK_WIDGET (find_row (vm)), "row.start", NULL);
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, BOOT_TIMEOUT_S);
  pid = casement_vm_get_pid (vm);
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-vm", g_variant_new_string (slug));
  CASEMENT_TEST_WAIT_UNTIL ((window = find_vm_window (vm)) != NULL, STEP_TIMEOUT_S, "the VM window");
  wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S);
  wait_screen (window);

  gtk_window_close (GTK_WINDOW (window));
  dialog = wait_message_dialog (GTK_WINDOW (window));
  remember = adw_message_dialog_get_extra_child (dialog);
  g_assert_true (GTK_IS_CHECK_BUTTON (remember));
  g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (remember)));
  g_assert_true (gtk_window_get_focus (GTK_WINDOW (dialog)) ==
                 gtk_window_get_default_widget (GTK_WINDOW (dialog)));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (remember), TRUE);
  screenshot_desktop ("close-dialog-remember");
  click_response (dialog, "_Keep Running");
  CASEMENT_TEST_WAIT_UNTIL (find_vm_window (vm) == NULL, STEP_TIMEOUT_S, "the VM window to close");
  g_clear_pointer (&value, g_free);
  value = g_settings_get_string (settings, "close-action");
  g_assert_cmpstr (value, ==, "keep-running");
  g_assert_true (casement_test_pid_alive (pid));
  g_assert_true (qmp_status_is (vm, "running"));

  /* Remembered: closed at once, the VM runs on. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-vm", g_variant_new_string (slug));
  CASEMENT_TEST_WAIT_UNTIL ((window = find_vm_window (vm)) != NULL, STEP_TIMEOUT_S, "the VM window again");
  wait_screen (window);
  gtk_window_close (GTK_WINDOW (window));
  g_assert_null (find_vm_window (vm));
  window = NULL;
  casement_test_spin (500);
  g_assert_null (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_true (casement_test_pid_alive (pid));
  g_assert_true (qmp_status_is (vm, "running"));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);

  /* The preferences show the choice, both ways. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  CASEMENT_TEST_WAIT_UNTIL ((preferences = find_toplevel (CASEMENT_TYPE_PREFERENCES)) != NULL, STEP_TIMEOUT_S,
              "the preferences");
  close_row = template_child (preferences, CASEMENT_TYPE_PREFERENCES, "close_action_row");
  g_assert_cmpuint (adw_combo_row_get_selected (close_row), ==, 1);
  screenshot_desktop ("preferences-close-action");
  g_settings_set_string (settings, "close-action", "shut-down");
  g_assert_cmpuint (adw_combo_row_get_selected (close_row), ==, 2);
  adw_combo_row_set_selected (close_row, 0);
  g_clear_pointer (&value, g_free);
  value = g_settings_get_string (settings, "close-action");
  g_assert_cmpstr (value, ==, "ask");
  gtk_window_destroy (GTK_WINDOW (preferences));

  /* Undone: closing asks again. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-vm", g_variant_new_string (slug));
  CASEMENT_TEST_WAIT_UNTIL ((window = find_vm_window (vm)) != NULL, STEP_TIMEOUT_S, "the VM window once more");
  wait_screen (window);
  gtk_window_close (GTK_WINDOW (window));
  dialog = wait_message_dialog (GTK_WINDOW (window));
  click_response (dialog, "_Cancel");
  g_assert_true (find_vm_window (vm) == window);

  force_off (vm);
  wait_state (vm, CASEMENT_VM_STATE_STOPPED, STEP_TIMEOUT_S);
  gtk_window_close (GTK_WINDOW (window));
  CASEMENT_TEST_WAIT_UNTIL (find_vm_window (vm) == NULL, STEP_TIMEOUT_S, "the stopped VM's window to close");
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);
}

/* The library window's search set to @text ("" for all), once the list
 * shows @n_rows rows. */
static void
search_library (const char *text,
                guint       n_rows)
{
  CasementWindow *window = library_window ();
  GtkSearchEntry *entry = template_child (window, CASEMENT_TYPE_WINDOW, "search_entry");
  GtkSearchBar *bar = template_child (window, CASEMENT_TYPE_WINDOW, "search_bar");

  gtk_search_bar_set_search_mode (bar, text[0] != '\0');
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  CASEMENT_TEST_WAIT_UNTIL (count_rows () == n_rows, STEP_TIMEOUT_S, "the search to show its rows");
}

/* Closing a VM's window with Shut Down, and the guest ignores the power
 * button: the window goes, the library (reopened, as the user had closed
 * it) says "Shutting down…", then offers force off after the shutdown
 * timeout; its button powers the VM off. */
static void
test_ui_close_shut_down_ignored (void)
{
  GSettings *settings = casement_application_get_default_settings ();
  CasementVm *vm = add_guest ("UI Close Stubborn", "tg.ignore_powerdown=1");
  const char *slug = casement_vm_get_slug (vm);
  CasementWindow *old_library = library_window ();
  CasementVmWindow *window = NULL;
  AdwMessageDialog *dialog;
  CasementVmRow *row = NULL;
  GtkWidget *force;
  guint n_rows;
  gint64 asked;
  gint64 offered;

  g_settings_set_uint (settings, "shutdown-timeout", 5);

  gtk_widget_activate_action (GTK_WIDGET (find_row (vm)), "row.start", NULL);
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, BOOT_TIMEOUT_S);
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-vm", g_variant_new_string (slug));
  CASEMENT_TEST_WAIT_UNTIL ((window = find_vm_window (vm)) != NULL, STEP_TIMEOUT_S, "the VM window");
  wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S);
  wait_screen (window);

  /* Only the VM's window is left. */
  g_object_ref (old_library);
  gtk_window_close (GTK_WINDOW (old_library));
  CASEMENT_TEST_WAIT_UNTIL (!toplevel_exists (old_library), STEP_TIMEOUT_S, "the library window to close");
  g_object_unref (old_library);

  gtk_window_close (GTK_WINDOW (window));
  dialog = wait_message_dialog (GTK_WINDOW (window));
  asked = g_get_monotonic_time ();
  click_response (dialog, "_Shut Down");
  CASEMENT_TEST_WAIT_UNTIL (find_vm_window (vm) == NULL, STEP_TIMEOUT_S, "the VM window to close");

  /* The library is back, and says what goes on. It is a new window
   * (the old one left the application's list above), which may well
   * have the old one's address: comparing pointers would not tell. */
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (library_window ())));
  CASEMENT_TEST_WAIT_UNTIL ((row = find_row (vm)) != NULL &&
              strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "Shutting down…") != NULL,
              STEP_TIMEOUT_S, "the row to say “Shutting down…”");
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);

  /* A row the search takes away and brings back still says so. */
  n_rows = count_rows ();
  search_library ("no such machine", 0);
  search_library ("Close Stubborn", 1);
  row = find_row (vm);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "Shutting down…"));
  wait_serial (vm, "TG: powerdown ignored", STEP_TIMEOUT_S);
  screenshot (library_window (), "library-closed-shutting-down");

  wait_text (library_window (), "“UI Close Stubborn” did not shut down", STEP_TIMEOUT_S);
  offered = g_get_monotonic_time ();
  g_test_message ("Force off offered %.1f s after Shut Down", (offered - asked) / (double) G_USEC_PER_SEC);
  g_assert_cmpint (offered - asked, >=, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (offered - asked, <, 30 * G_USEC_PER_SEC);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "Running"));
  screenshot (library_window (), "library-closed-force-off-offered");

  force = find_actionable (GTK_WIDGET (library_window ()), "app.force-off-vm", slug);
  g_assert_nonnull (force);
  g_assert_true (gtk_widget_is_sensitive (force));
  g_signal_emit_by_name (force, "clicked");
  wait_state (vm, CASEMENT_VM_STATE_STOPPED, STEP_TIMEOUT_S);
  CASEMENT_TEST_WAIT_UNTIL (!shows_text (GTK_WIDGET (library_window ()), "did not shut down"), STEP_TIMEOUT_S,
              "the offer to go");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "Stopped"));
  search_library ("", n_rows);

  g_settings_reset (settings, "shutdown-timeout");
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);
}

/* The quit dialog, once it shows. */
static AdwMessageDialog *
wait_quit_dialog (void)
{
  AdwMessageDialog *dialog = NULL;

  CASEMENT_TEST_WAIT_UNTIL ((dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG)) != NULL &&
              g_strcmp0 (adw_message_dialog_get_heading (dialog), "Quit With Virtual Machines Running?") == 0,
              STEP_TIMEOUT_S, "the quit dialog");
  return dialog;
}

/* In a subprocess: the VM @name (made by the parent) started by this
 * application, so that quitting is about a VM it launched itself. */
static CasementVm *
start_for_quit (const char *name)
{
  CasementVm *vm = NULL;

  g_assert_true (g_test_subprocess ());

  CASEMENT_TEST_WAIT_UNTIL ((vm = find_vm_named (name)) != NULL, STEP_TIMEOUT_S, "the VM in the library");
  gtk_widget_activate_action (GTK_WIDGET (find_row (vm)), "row.start", NULL);
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, BOOT_TIMEOUT_S);
  wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S);

  return vm;
}

/* The application's own main loop, as main.c runs it, while @drive
 * quits it as a user would; returns once it has quit. */
static void
run_application (GSourceFunc drive,
                 gpointer    data)
{
  char *argv[] = { (char *) "test-ui", NULL };

  g_idle_add (drive, data);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 1, argv), ==, 0);
}

/* QEMU told to quit on its own socket: a VM no CasementVm of this
 * process supervises. */
static void
qmp_quit (CasementVm *vm)
{
  g_autoptr(JsonNode) reply = qmp (vm, "quit");
}

static gboolean
quit_keep_running (gpointer user_data)
{
  gint64 *answered = user_data;
  AdwMessageDialog *dialog;
  GtkWidget *remember;

  /* Ctrl+Q, as the user presses it. */
  focus_window (GTK_WINDOW (library_window ()));
  xdo ("key", "ctrl+q", NULL);
  dialog = wait_quit_dialog ();
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "“UI Quit Keep”"));
  remember = adw_message_dialog_get_extra_child (dialog);
  g_assert_true (GTK_IS_CHECK_BUTTON (remember));
  screenshot_desktop ("quit-dialog");

  /* Enter answers with the default, though the check comes first. */
  g_object_ref (dialog);
  focus_window (GTK_WINDOW (dialog));
  *answered = g_get_monotonic_time ();
  xdo ("key", "Return", NULL);
  CASEMENT_TEST_WAIT_UNTIL (!toplevel_exists (dialog), STEP_TIMEOUT_S, "the quit dialog to close");
  g_object_unref (dialog);

  return G_SOURCE_REMOVE;
}

/* Quit with a VM running, "Keep Running in Background": the application
 * quits within a moment, having kept the VM's screen as its thumbnail;
 * QEMU runs on (then the test stops it). */
static void
test_ui_quit_keep_running (void)
{
  g_autoptr(GAsyncResult) attached = NULL;
  g_autoptr(GError) error = NULL;
  CasementVm *vm;

  if (g_test_subprocess ())
    {
      g_autofree char *thumbnail = NULL;
      gint64 answered = 0;
      gint64 quit_after;
      GPid pid;

      vm = start_for_quit ("UI Quit Keep");
      wait_serial (vm, "TG: pattern drawn", STEP_TIMEOUT_S);
      pid = casement_vm_get_pid (vm);
      thumbnail = casement_vm_row_dup_thumbnail_path (vm);
      g_assert_false (g_file_test (thumbnail, G_FILE_TEST_EXISTS));

      run_application (quit_keep_running, &answered);
      quit_after = g_get_monotonic_time () - answered;
      g_assert_true (casement_test_pid_alive (pid));
      g_printerr ("# QEMU (pid %d) runs on after the application quit, %.2f s after Keep Running\n",
                  (int) pid, quit_after / (double) G_USEC_PER_SEC);

      /* The library shows it by its screen as the user left it. */
      g_assert_true (is_png (thumbnail));
      /* A moment: the wait for the screen is bounded (1.5 s), the rest is
       * the dialog closing and X round trips on a loaded machine. */
      g_assert_cmpint (quit_after, <, 5 * G_USEC_PER_SEC);
      return;
    }

  /* A guest with something to see on its screen. */
  vm = add_guest_in_mode ("UI Quit Keep", "pattern", NULL);
  g_test_trap_subprocess (NULL, 10 * STEP_TIMEOUT_S * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();

  /* The library here finds the VM running, as the next start of the
   * application would, and shows the screen the quitting one kept. */
  casement_vm_attach_async (vm, NULL, casement_test_store_result_cb, &attached);
  CASEMENT_TEST_WAIT_UNTIL (attached != NULL, STEP_TIMEOUT_S, "the VM to be attached");
  casement_vm_attach_finish (vm, attached, &error);
  g_assert_no_error (error);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  CASEMENT_TEST_WAIT_UNTIL (g_strcmp0 (gtk_stack_get_visible_child_name (template_child (find_row (vm), CASEMENT_TYPE_VM_ROW,
                                                                                         "thumbnail_stack")),
                                       "thumbnail") == 0,
              STEP_TIMEOUT_S, "the row to show the thumbnail");
  screenshot (library_window (), "library-thumbnail-kept-running");

  /* The application that started it is gone; the VM is not. */
  g_assert_true (qmp_status_is (vm, "running"));
  qmp_quit (vm);
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);
}

static gboolean
quit_shut_down_all (gpointer user_data)
{
  AdwMessageDialog *dialog;
  AdwMessageDialog *progress = NULL;
  gint64 *asked = user_data;

  /* As the tray's Quit and the library's menu do. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  dialog = wait_quit_dialog ();
  click_response (dialog, "_Shut Down All");
  *asked = g_get_monotonic_time ();

  /* The application stays whole meanwhile, and says what it waits for. */
  CASEMENT_TEST_WAIT_UNTIL ((progress = find_toplevel (ADW_TYPE_MESSAGE_DIALOG)) != NULL &&
              g_strcmp0 (adw_message_dialog_get_heading (progress), "Shutting Down Virtual Machines") == 0,
              STEP_TIMEOUT_S, "the shutdown progress");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (progress), "Waiting for “UI Quit Shut Down”"));
  g_assert_false (adw_message_dialog_get_response_enabled (progress, "force-off"));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (library_window ())));

  return G_SOURCE_REMOVE;
}

/* Quit with a VM running, "Shut Down All": the guest gets the ACPI power
 * button and powers off, then the application quits. */
static void
test_ui_quit_shut_down_all (void)
{
  if (g_test_subprocess ())
    {
      CasementVm *vm;
      g_autofree char *thumbnail = NULL;
      gint64 asked = 0;
      GPid pid;

      vm = start_for_quit ("UI Quit Shut Down");
      pid = casement_vm_get_pid (vm);
      thumbnail = casement_vm_row_dup_thumbnail_path (vm);
      g_assert_false (g_file_test (thumbnail, G_FILE_TEST_EXISTS));

      run_application (quit_shut_down_all, &asked);
      /* A subprocess case runs quiet: its messages go to stderr. */
      g_printerr ("# Quit %.1f s after Shut Down All\n",
                  (g_get_monotonic_time () - asked) / (double) G_USEC_PER_SEC);

      g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);
      wait_serial (vm, "TG: powerdown", STEP_TIMEOUT_S);
      g_assert_false (casement_test_pid_alive (pid));
      /* Its last screen, for the library, as every Shut Down keeps it. */
      g_assert_true (is_png (thumbnail));
      return;
    }

  add_guest ("UI Quit Shut Down", NULL);
  g_test_trap_subprocess (NULL, 10 * STEP_TIMEOUT_S * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);
}

static gboolean
quit_paused (gpointer user_data)
{
  gboolean *force_off_offered = user_data;
  AdwMessageDialog *dialog;
  AdwMessageDialog *progress = NULL;

  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  dialog = wait_quit_dialog ();
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "“UI Quit Paused”"));
  click_response (dialog, "_Shut Down All");

  CASEMENT_TEST_WAIT_UNTIL ((progress = find_toplevel (ADW_TYPE_MESSAGE_DIALOG)) != NULL &&
              g_strcmp0 (adw_message_dialog_get_heading (progress), "Shutting Down Virtual Machines") == 0,
              STEP_TIMEOUT_S, "the shutdown progress");
  g_object_ref (progress);

  /* Until it quits: a guest that was left paused could never take the
   * power button, and would be offered force off. */
  CASEMENT_TEST_WAIT_UNTIL (!toplevel_exists (progress) ||
              adw_message_dialog_get_response_enabled (progress, "force-off"),
              STEP_TIMEOUT_S, "the VM to shut down");
  if (toplevel_exists (progress))
    {
      *force_off_offered = TRUE;
      screenshot_desktop ("quit-paused-force-off-offered");
      click_response (progress, "_Force Off");
    }
  else
    {
      /* The library's last look, as the application quits. */
      screenshot (library_window (), "quit-paused-stopped");
    }
  g_object_unref (progress);

  return G_SOURCE_REMOVE;
}

/* Quit, "Shut Down All", with a paused VM: it runs again to take the
 * power button, and powers off by itself; no force off is needed. */
static void
test_ui_quit_paused (void)
{
  if (g_test_subprocess ())
    {
      GSettings *settings = casement_application_get_default_settings ();
      g_autoptr(GString) states = g_string_new (NULL);
      g_autoptr(JsonNode) reply = NULL;
      gboolean force_off_offered = FALSE;
      CasementVm *vm;
      GPid pid;

      g_settings_set_uint (settings, "shutdown-timeout", 20);
      vm = start_for_quit ("UI Quit Paused");
      pid = casement_vm_get_pid (vm);
      reply = qmp (vm, "stop");
      wait_state (vm, CASEMENT_VM_STATE_PAUSED, STEP_TIMEOUT_S);
      CASEMENT_TEST_WAIT_UNTIL (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_row (vm))), "Paused"),
                  STEP_TIMEOUT_S, "the row to say “Paused”");
      search_library ("Quit Paused", 1);
      screenshot (library_window (), "library-paused-before-quit");
      g_signal_connect (vm, "notify::state", G_CALLBACK (record_state), states);

      run_application (quit_paused, &force_off_offered);
      g_signal_handlers_disconnect_by_func (vm, record_state, states);
      g_printerr ("# States after Shut Down All: %s\n", states->str);

      g_assert_false (force_off_offered);
      g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);
      g_assert_false (casement_test_pid_alive (pid));
      /* Resumed, then the guest's own power-off. */
      g_assert_true (g_str_has_prefix (states->str, "2,"));
      g_assert_cmpuint (count_serial (vm, "TG: powerdown"), ==, 1);
      g_assert_cmpuint (count_serial (vm, "TG: powerdown ignored"), ==, 0);
      return;
    }

  add_guest ("UI Quit Paused", NULL);
  g_test_trap_subprocess (NULL, 10 * STEP_TIMEOUT_S * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);
}

static gboolean
quit_force_off (gpointer user_data)
{
  AdwMessageDialog *dialog;
  AdwMessageDialog *progress = NULL;

  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  dialog = wait_quit_dialog ();
  click_response (dialog, "_Shut Down All");

  /* After the shutdown timeout, force off is offered, never done. */
  CASEMENT_TEST_WAIT_UNTIL ((progress = find_toplevel (ADW_TYPE_MESSAGE_DIALOG)) != NULL &&
              adw_message_dialog_get_response_enabled (progress, "force-off"),
              STEP_TIMEOUT_S, "force off to be offered");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (progress), "“UI Quit Stubborn” did not shut down"));
  screenshot_desktop ("quit-force-off-offered");
  click_response (progress, "_Force Off");

  return G_SOURCE_REMOVE;
}

/* Quit, "Shut Down All", with a guest that ignores the power button: after
 * the shutdown timeout the dialog offers force off; once forced, the
 * application quits. */
static void
test_ui_quit_force_off (void)
{
  if (g_test_subprocess ())
    {
      CasementVm *vm;
      GSettings *settings = casement_application_get_default_settings ();
      GPid pid;

      g_settings_set_uint (settings, "shutdown-timeout", 5);
      vm = start_for_quit ("UI Quit Stubborn");
      pid = casement_vm_get_pid (vm);
      run_application (quit_force_off, NULL);
      wait_serial (vm, "TG: powerdown ignored", STEP_TIMEOUT_S);
      g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);
      g_assert_false (casement_test_pid_alive (pid));
      return;
    }

  add_guest ("UI Quit Stubborn", "tg.ignore_powerdown=1");
  g_test_trap_subprocess (NULL, 10 * STEP_TIMEOUT_S * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);
}

/* The windows at 640 px wide: nothing may stick out. Also run at 2×
 * scale, in a subprocess (GDK reads GDK_SCALE once). */
static void
check_layouts (const char *suffix)
{
  CasementWindow *window = library_window ();
  CasementVmSettings *settings;
  CasementPreferences *preferences = NULL;
  GtkShortcutsWindow *shortcuts = NULL;
  CasementVmWindow *vm_window = NULL;
  g_autofree char *name = NULL;
  CasementVm *vm = NULL;

  CASEMENT_TEST_WAIT_UNTIL ((vm = find_vm_named ("UI Layout")) != NULL, STEP_TIMEOUT_S, "the library's VMs");

  resize (window, 640, 600);
  g_assert_cmpint (surface_width (window), ==, 640);
  name = g_strdup_printf ("narrow-library%s", suffix);
  screenshot (window, name);

  settings = casement_vm_settings_show (GTK_WINDOW (window), vm, NULL);
  resize (settings, 640, 720);
  CASEMENT_TEST_WAIT_UNTIL (settings_idle (settings), STEP_TIMEOUT_S, "the settings to load");
  casement_test_spin (300);
  g_assert_cmpint (surface_width (settings), ==, 640);
  g_free (name);
  name = g_strdup_printf ("narrow-settings-general%s", suffix);
  screenshot (settings, name);
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (settings), "devices");
  adw_expander_row_set_expanded (settings_child (settings, "forwards_row"), TRUE);
  casement_test_spin (300);
  g_assert_cmpint (surface_width (settings), ==, 640);
  g_free (name);
  name = g_strdup_printf ("narrow-settings-devices%s", suffix);
  screenshot (settings, name);
  gtk_window_destroy (GTK_WINDOW (settings));

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  CASEMENT_TEST_WAIT_UNTIL ((preferences = find_toplevel (CASEMENT_TYPE_PREFERENCES)) != NULL, STEP_TIMEOUT_S, "the preferences");
  resize (preferences, 640, 600);
  casement_test_spin (300);
  g_assert_cmpint (surface_width (preferences), ==, 640);
  g_free (name);
  name = g_strdup_printf ("narrow-preferences%s", suffix);
  screenshot (preferences, name);
  gtk_window_destroy (GTK_WINDOW (preferences));

  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL);
  CASEMENT_TEST_WAIT_UNTIL ((shortcuts = find_toplevel (GTK_TYPE_SHORTCUTS_WINDOW)) != NULL, STEP_TIMEOUT_S, "the shortcuts");
  g_free (name);
  name = g_strdup_printf ("narrow-shortcuts%s", suffix);
  screenshot (shortcuts, name);
  gtk_window_close (GTK_WINDOW (shortcuts));

  g_action_group_activate_action (G_ACTION_GROUP (app), "open-vm", g_variant_new_string (casement_vm_get_slug (vm)));
  CASEMENT_TEST_WAIT_UNTIL ((vm_window = find_vm_window (vm)) != NULL, STEP_TIMEOUT_S, "the VM window");
  resize (vm_window, 640, 480);
  casement_test_spin (500);
  g_assert_cmpint (surface_width (vm_window), ==, 640);
  g_free (name);
  name = g_strdup_printf ("narrow-vm-window%s", suffix);
  screenshot (vm_window, name);
  gtk_window_destroy (GTK_WINDOW (vm_window));

  resize (window, 960, 640);
}

/* The VM the layouts show, made once, in the parent process. */
static void
ensure_layout_vm (void)
{
  CASEMENT_TEST_WAIT_UNTIL (casement_window_get_host (library_window ()) != NULL, STEP_TIMEOUT_S, "the host probe");
  if (find_vm_named ("UI Layout") == NULL)
    add_guest ("UI Layout", NULL);
}

static void
test_ui_narrow (void)
{
  ensure_layout_vm ();
  check_layouts ("");
}

static void
test_ui_hidpi (void)
{
  if (g_test_subprocess ())
    {
      g_assert_cmpint (gdk_surface_get_scale_factor (gtk_native_get_surface (GTK_NATIVE (library_window ()))), ==, 2);
      check_layouts ("");
      return;
    }

  ensure_layout_vm ();
  g_setenv ("GDK_SCALE", "2", TRUE);
  g_test_trap_subprocess (NULL, 10 * STEP_TIMEOUT_S * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("GDK_SCALE");
  g_test_trap_assert_passed ();
}

/* ---- Set-up ------------------------------------------------------------------------ */

/* Screenshots stay after the run, to be looked at; each run starts afresh. */
static void
clean_screenshot_dir (void)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_assert_cmpint (g_mkdir_with_parents (screenshot_dir, 0755), ==, 0);
  dir = g_dir_open (screenshot_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (screenshot_dir, name, NULL);

      if (g_str_has_suffix (name, ".png"))
        g_unlink (path);
    }
}

/* Pictures (where screenshots go) in our private folder: GLib reads the
 * user's folders from XDG_CONFIG_HOME/user-dirs.dirs, once. */
static void
setup_private_folders (void)
{
  const char *dir = casement_test_guest_env_get_dir (env);
  g_autofree char *config_dir = g_build_filename (dir, "config", NULL);
  g_autofree char *dirs_file = g_build_filename (config_dir, "user-dirs.dirs", NULL);
  g_autofree char *pictures = g_build_filename (dir, "Pictures", NULL);
  g_autofree char *contents = g_strdup_printf ("XDG_PICTURES_DIR=\"%s\"\n", pictures);
  g_autofree char *no_bus = g_strdup_printf ("unix:path=%s/no-session-bus", dir);
  g_autofree char *schema_dir = g_test_build_filename (G_TEST_BUILT, "..", "data", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (config_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (pictures, 0700), ==, 0);
  g_file_set_contents (dirs_file, contents, -1, &error);
  g_assert_no_error (error);
  g_setenv ("XDG_CONFIG_HOME", config_dir, TRUE);

  /* Off the session bus: there, GTK would start the document portal,
   * which mounts itself into our private runtime folder. The application
   * runs on as a program without one (its tray stays hidden). */
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", no_bus, TRUE);

  /* The schema as the build compiled it, settings in memory only. */
  g_setenv ("GSETTINGS_SCHEMA_DIR", schema_dir, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
}

static void
setup_discs (void)
{
  g_autoptr(GError) error = NULL;

  media_dir = g_build_filename (casement_test_guest_env_get_dir (env), "discs, here", NULL);
  g_assert_cmpint (g_mkdir_with_parents (media_dir, 0755), ==, 0);
  disc_a = casement_test_media_make_labelled_iso (media_dir, "first disc.iso", "UI_FIRST", NULL, FALSE, &error);
  g_assert_no_error (error);
  disc_b = casement_test_media_make_labelled_iso (media_dir, "second, disc.iso", "UI_SECOND", NULL, FALSE, &error);
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *env_dir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  if (!casement_test_guest_ensure (NULL, NULL, &error))
    g_error ("%s", error->message);

  /* GTK draws in software, without animations, off the accessibility bus. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GDK_BACKEND", "x11", TRUE);
  g_setenv ("NO_AT_BRIDGE", "1", TRUE);

  /* A subprocess test works in its parent's folders, on its parent's
   * display: it inherits them through the environment. */
  if (!g_test_subprocess ())
    {
      if (!(env = casement_test_guest_env_new (&error)))
        g_error ("%s", error->message);
      setup_private_folders ();
    }
  env_dir = g_path_get_dirname (g_get_user_data_dir ());
  casement_test_kill_on_abort (env_dir);

  screenshot_dir = g_test_build_filename (G_TEST_BUILT, "test-ui-screenshots", NULL);
  if (!g_test_subprocess ())
    clean_screenshot_dir ();
  if (!(import_path = g_find_program_in_path ("import")))
    g_test_message ("No screenshots: ImageMagick’s import is not installed");

  if ((missing = casement_test_media_dup_missing_tool ()) != NULL ||
      !(xdotool_path = g_find_program_in_path ("xdotool")) ||
      !casement_test_ensure_display ("1600x1200x24", &xvfb) || !gtk_init_check ())
    {
      g_test_skip (missing != NULL ? missing
                   : xdotool_path == NULL ? "Needs xdotool (apt install xdotool) for real X input events"
                   : "Needs an X display: DISPLAY is unset and Xvfb is not installed");
      g_clear_pointer (&env, casement_test_guest_env_free);
      return g_test_run ();
    }

  pictures_dir = g_strdup (g_get_user_special_dir (G_USER_DIRECTORY_PICTURES));
  {
    /* Never the user's own Pictures. */
    g_autofree char *private_dir = g_path_get_dirname (g_get_user_data_dir ());

    g_assert_nonnull (pictures_dir);
    g_assert_true (g_str_has_prefix (pictures_dir, private_dir));
  }
  if (!g_test_subprocess ())
    setup_discs ();

  /* The vm-folder test's subprocess: the preference as the user left it. */
  if (g_test_subprocess () && g_getenv ("CASEMENT_TEST_UI_VM_FOLDER") != NULL)
    {
      g_autoptr(GSettings) settings = g_settings_new (APP_ID);

      g_settings_set_string (settings, "vm-folder", g_getenv ("CASEMENT_TEST_UI_VM_FOLDER"));
    }

  /* The real application: startup makes the library and the tray (no
   * bus: hidden), activation the library window. Its main loop is ours. */
  app = casement_application_new ();
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  g_test_add_func ("/Casement/UI/library", test_ui_library);
  g_test_add_func ("/Casement/UI/shortcuts", test_ui_shortcuts);
  g_test_add_func ("/Casement/UI/preferences", test_ui_preferences);
  g_test_add_func ("/Casement/UI/vm-window", test_ui_vm_window);
  g_test_add_func ("/Casement/UI/shutdown-timeout", test_ui_shutdown_timeout);
  g_test_add_func ("/Casement/UI/settings", test_ui_settings);
  g_test_add_func ("/Casement/UI/settings-windows", test_ui_settings_windows);
  g_test_add_func ("/Casement/UI/delete", test_ui_delete);
  g_test_add_func ("/Casement/UI/search", test_ui_search);
  g_test_add_func ("/Casement/UI/vm-folder", test_ui_vm_folder);
  g_test_add_func ("/Casement/UI/close-remember", test_ui_close_remember);
  g_test_add_func ("/Casement/UI/close-shut-down-ignored", test_ui_close_shut_down_ignored);
  g_test_add_func ("/Casement/UI/quit-keep-running", test_ui_quit_keep_running);
  g_test_add_func ("/Casement/UI/quit-shut-down-all", test_ui_quit_shut_down_all);
  g_test_add_func ("/Casement/UI/quit-paused", test_ui_quit_paused);
  g_test_add_func ("/Casement/UI/quit-force-off", test_ui_quit_force_off);
  g_test_add_func ("/Casement/UI/narrow", test_ui_narrow);
  g_test_add_func ("/Casement/UI/hidpi", test_ui_hidpi);

  status = g_test_run ();

  /* Whatever a failed case left running goes. A subprocess case that
   * passed leaves its VMs to its parent: that they outlive the
   * application may be what it checks. */
  if (status != 0 || !g_test_subprocess ())
    casement_test_kill_strays ();
  {
    GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (app)));

    for (GList *l = windows; l; l = l->next)
      gtk_window_destroy (l->data);
    g_list_free (windows);
  }
  casement_test_spin (200);
  g_clear_object (&app);

  g_clear_pointer (&screenshot_dir, g_free);
  g_clear_pointer (&import_path, g_free);
  g_clear_pointer (&xdotool_path, g_free);
  g_clear_pointer (&media_dir, g_free);
  g_clear_pointer (&disc_a, g_free);
  g_clear_pointer (&disc_b, g_free);
  g_clear_pointer (&pictures_dir, g_free);
  g_clear_pointer (&env, casement_test_guest_env_free);

  casement_test_stop_display (&xvfb);

  return status;
}
