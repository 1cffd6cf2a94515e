/* casement-application.c
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

#define G_LOG_DOMAIN "casement-application"

#include "config.h"

#include <glib/gi18n.h>

#include "casement-application.h"
#include "casement-display.h"
#include "casement-library.h"
#include "casement-preferences.h"
#include "casement-settings.h"
#include "casement-tray.h"
#include "casement-vm-row.h"
#include "casement-vm-window.h"
#include "casement-window.h"
#include "casement-wizard.h"

/* Quitting while VMs are live: the user says what becomes of them. */
typedef enum
{
  CASEMENT_QUIT_STATE_NONE = 0,       /* not quitting */
  CASEMENT_QUIT_STATE_ASKING,         /* the quit dialog asks: keep running, shut down, cancel */
  CASEMENT_QUIT_STATE_KEEPING,        /* saving the screens of the VMs that run on, then quitting */
  CASEMENT_QUIT_STATE_SHUTTING_DOWN,  /* waiting for the VMs to power off, then quitting */
} CasementQuitState;

/* Quitting with VMs kept running waits this long at most for their
 * screens (the library's thumbnails): a guest's display that does not
 * answer must not hold the user up. */
#define QUIT_KEEPING_TIMEOUT_MS 1500

struct _CasementApplication
{
  AdwApplication     parent_instance;

  CasementLibrary   *library;

  /* Tray icon, background running, notifications */
  CasementTray      *tray;
  GSettings         *settings;

  /* Quitting: the dialog that asks or shows the shutdowns (destroyed when
   * done), the VMs being shut down and those that did not in time; the
   * screens still to save of the VMs kept running, and how long that may
   * take. */
  AdwMessageDialog  *quit_dialog;
  GPtrArray         *quit_vms;
  GHashTable        *quit_failed;
  GCancellable      *quit_cancellable;
  guint              quit_screens_pending;
  guint              quit_timeout_id;
  CasementQuitState  quit_state;
};

G_DEFINE_FINAL_TYPE (CasementApplication, casement_application, ADW_TYPE_APPLICATION)

static GtkWindow *
casement_application_get_library_window (CasementApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    if (CASEMENT_IS_WINDOW (l->data))
      return l->data;

  return NULL;
}

static void
casement_application_activate (GApplication *app)
{
  CasementApplication *self = CASEMENT_APPLICATION (app);
  GtkWindow *window;

  window = casement_application_get_library_window (self);
  if (window == NULL)
    window = GTK_WINDOW (casement_window_new (ADW_APPLICATION (app), self->library));

  gtk_window_present (window);
}

static void
casement_application_new_vm_action (GSimpleAction *action,
                                    GVariant      *param,
                                    gpointer       user_data)
{
  CasementApplication *self = user_data;
  GtkWindow *window;

  g_assert (CASEMENT_IS_APPLICATION (self));

  /* One wizard at a time: a second request brings it back. */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (CASEMENT_IS_WIZARD (l->data))
        {
          gtk_window_present (l->data);
          return;
        }
    }

  g_application_activate (G_APPLICATION (self));
  window = casement_application_get_library_window (self);
  gtk_window_present (GTK_WINDOW (casement_wizard_new (window, self->library, NULL)));
}

static void
casement_application_about_action (GSimpleAction *action,
                                   GVariant      *param,
                                   gpointer       user_data)
{
  CasementApplication *self = user_data;
  GtkWidget *about;

  g_assert (CASEMENT_IS_APPLICATION (self));

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "application-name", _("Casement"),
                        "application-icon", APP_ID,
                        "version", PACKAGE_VERSION,
                        "comments", _("Windows virtual machines on Linux, done right"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "developer-name", _("The Casement authors"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
casement_application_preferences_action (GSimpleAction *action,
                                         GVariant      *param,
                                         gpointer       user_data)
{
  CasementApplication *self = user_data;
  CasementPreferences *preferences;

  g_assert (CASEMENT_IS_APPLICATION (self));

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (CASEMENT_IS_PREFERENCES (l->data))
        {
          gtk_window_present (l->data);
          return;
        }
    }

  preferences = casement_preferences_new (gtk_application_get_active_window (GTK_APPLICATION (self)),
                                          self->settings);
  gtk_window_set_application (GTK_WINDOW (preferences), GTK_APPLICATION (self));
  gtk_window_present (GTK_WINDOW (preferences));
}

/* ---- Quitting ------------------------------------------------------------ */

/* What quitting would leave running: RUNNING, PAUSED and STARTING VMs
 * (a STOPPING one is on its way out already). */
static GPtrArray *
casement_application_dup_live_vms (CasementApplication *self)
{
  GListModel *model = G_LIST_MODEL (self->library);
  GPtrArray *live = g_ptr_array_new_with_free_func (g_object_unref);

  g_assert (CASEMENT_IS_APPLICATION (self));

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(CasementVm) vm = g_list_model_get_item (model, i);
      CasementVmState state = casement_vm_get_state (vm);

      if (state == CASEMENT_VM_STATE_RUNNING ||
          state == CASEMENT_VM_STATE_PAUSED ||
          state == CASEMENT_VM_STATE_STARTING)
        g_ptr_array_add (live, g_steal_pointer (&vm));
    }

  return live;
}

static gboolean
vm_is_stopped (CasementVm *vm)
{
  CasementVmState state = casement_vm_get_state (vm);

  return state == CASEMENT_VM_STATE_STOPPED || state == CASEMENT_VM_STATE_CRASHED;
}

/* “A”, “B” */
static char *
join_vm_names (GPtrArray *vms)
{
  GString *names = g_string_new (NULL);

  for (guint i = 0; i < vms->len; i++)
    {
      if (i > 0)
        /* Translators: between the names of virtual machines in a list */
        g_string_append (names, _(", "));
      /* Translators: a virtual machine's name, quoted */
      g_string_append_printf (names, _("“%s”"), casement_vm_get_display_name (g_ptr_array_index (vms, i)));
    }

  return g_string_free (names, FALSE);
}

/* The window a quit dialog belongs to; NULL when only the tray is left. */
static GtkWindow *
casement_application_dialog_parent (CasementApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL || !gtk_widget_get_visible (GTK_WIDGET (window)))
    return NULL;

  return window;
}

/* Back to normal running (Cancel), or on to quitting once every VM is off. */
static void
casement_application_quit_finish (CasementApplication *self,
                                  gboolean             quit)
{
  g_assert (CASEMENT_IS_APPLICATION (self));
  g_assert (self->quit_state == CASEMENT_QUIT_STATE_SHUTTING_DOWN);

  for (guint i = 0; i < self->quit_vms->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->quit_vms, i), self);
  g_clear_pointer (&self->quit_vms, g_ptr_array_unref);
  g_clear_pointer (&self->quit_failed, g_hash_table_unref);
  g_cancellable_cancel (self->quit_cancellable);
  g_clear_object (&self->quit_cancellable);
  g_clear_pointer ((GtkWindow **) &self->quit_dialog, gtk_window_destroy);
  self->quit_state = CASEMENT_QUIT_STATE_NONE;

  if (quit)
    g_application_quit (G_APPLICATION (self));
  g_application_release (G_APPLICATION (self));
}

/* The dialog says which VMs it still waits for and which did not shut
 * down in time; once none is left, the application quits. */
static void
casement_application_quit_progress (CasementApplication *self)
{
  g_autoptr(GPtrArray) waiting = g_ptr_array_new ();
  g_autoptr(GPtrArray) failed = g_ptr_array_new ();
  g_autoptr(GString) body = g_string_new (NULL);

  g_assert (CASEMENT_IS_APPLICATION (self));

  if (self->quit_state != CASEMENT_QUIT_STATE_SHUTTING_DOWN)
    return;

  for (guint i = 0; i < self->quit_vms->len; i++)
    {
      CasementVm *vm = g_ptr_array_index (self->quit_vms, i);

      if (vm_is_stopped (vm))
        continue;
      if (g_hash_table_contains (self->quit_failed, vm))
        g_ptr_array_add (failed, vm);
      else
        g_ptr_array_add (waiting, vm);
    }

  if (waiting->len == 0 && failed->len == 0)
    {
      casement_application_quit_finish (self, TRUE);
      return;
    }

  if (waiting->len > 0)
    {
      g_autofree char *names = join_vm_names (waiting);

      /* Translators: %s is a list of virtual machine names */
      g_string_append_printf (body, _("Waiting for %s to shut down…"), names);
    }
  if (failed->len > 0)
    {
      g_autofree char *names = join_vm_names (failed);

      if (body->len > 0)
        g_string_append (body, "\n\n");
      /* Translators: %s is a list of virtual machine names */
      g_string_append_printf (body, _("%s did not shut down. Force off to quit now; unsaved work in the guest is lost."),
                              names);
    }

  adw_message_dialog_set_body (self->quit_dialog, body->str);
  adw_message_dialog_set_response_enabled (self->quit_dialog, "force-off", failed->len > 0);
}

static void
casement_application_quit_shut_down_cb (GObject      *object,
                                        GAsyncResult *result,
                                        gpointer      user_data)
{
  g_autoptr(CasementApplication) self = user_data;
  CasementVm *vm = CASEMENT_VM (object);
  g_autoptr(GError) error = NULL;

  if (casement_vm_row_shut_down_finish (vm, result, &error) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      self->quit_state != CASEMENT_QUIT_STATE_SHUTTING_DOWN)
    return;

  /* The timeout, or QEMU refusing (a paused guest is resumed first): each
   * is offered force off, never forced. */
  g_debug ("%s did not shut down: %s", casement_vm_get_slug (vm), error->message);
  g_hash_table_add (self->quit_failed, vm);
  casement_application_quit_progress (self);
}

static void
casement_application_quit_force_off_cb (GObject      *object,
                                        GAsyncResult *result,
                                        gpointer      user_data)
{
  g_autoptr(CasementApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (casement_vm_force_off_finish (CASEMENT_VM (object), result, &error) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      self->quit_dialog == NULL)
    return;

  adw_message_dialog_set_body (self->quit_dialog, error->message);
}

static void casement_application_show_quit_progress (CasementApplication *self);

static void
casement_application_quit_progress_response (CasementApplication *self,
                                             const char          *response,
                                             AdwMessageDialog    *dialog)
{
  GHashTableIter iter;
  gpointer vm;

  g_assert (CASEMENT_IS_APPLICATION (self));

  if (self->quit_state != CASEMENT_QUIT_STATE_SHUTTING_DOWN)
    return;

  /* The dialog closes with its response: it is not ours to destroy. */
  self->quit_dialog = NULL;

  if (!g_str_equal (response, "force-off"))
    {
      casement_application_quit_finish (self, FALSE);
      return;
    }

  g_hash_table_iter_init (&iter, self->quit_failed);
  while (g_hash_table_iter_next (&iter, &vm, NULL))
    if (!vm_is_stopped (vm))
      casement_vm_force_off_async (vm, self->quit_cancellable,
                                   casement_application_quit_force_off_cb, g_object_ref (self));
  g_hash_table_remove_all (self->quit_failed);

  /* The wait goes on, in a new dialog, until the VMs are off. */
  casement_application_show_quit_progress (self);
}

static void
casement_application_show_quit_progress (CasementApplication *self)
{
  GtkWidget *dialog;

  g_assert (CASEMENT_IS_APPLICATION (self));
  g_assert (self->quit_dialog == NULL);

  dialog = adw_message_dialog_new (casement_application_dialog_parent (self),
                                   _("Shutting Down Virtual Machines"), NULL);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel Quitting"),
                                    "force-off", _("_Force Off"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "force-off",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (casement_application_quit_progress_response), self,
                           G_CONNECT_SWAPPED);
  self->quit_dialog = ADW_MESSAGE_DIALOG (dialog);
  casement_application_quit_progress (self);
  if (self->quit_dialog != NULL)
    gtk_window_present (GTK_WINDOW (dialog));
}

/* Every live VM gets the power button; the application stays whole (it
 * holds itself, its windows stay) until the last one is off. */
static void
casement_application_quit_shutting_down (CasementApplication *self,
                                         GPtrArray           *vms)
{
  guint timeout = casement_application_get_shutdown_timeout ();

  g_assert (CASEMENT_IS_APPLICATION (self));
  g_assert (self->quit_state == CASEMENT_QUIT_STATE_NONE);

  self->quit_state = CASEMENT_QUIT_STATE_SHUTTING_DOWN;
  self->quit_vms = g_ptr_array_ref (vms);
  self->quit_failed = g_hash_table_new (NULL, NULL);
  self->quit_cancellable = g_cancellable_new ();
  g_application_hold (G_APPLICATION (self));

  for (guint i = 0; i < vms->len; i++)
    g_signal_connect_object (g_ptr_array_index (vms, i), "notify::state",
                             G_CALLBACK (casement_application_quit_progress), self,
                             G_CONNECT_SWAPPED);

  casement_application_show_quit_progress (self);

  for (guint i = 0; i < vms->len; i++)
    casement_vm_row_shut_down_async (g_ptr_array_index (vms, i), timeout, self->quit_cancellable,
                                     casement_application_quit_shut_down_cb, g_object_ref (self));
}

static void
casement_application_quit_keeping_done (CasementApplication *self)
{
  g_assert (CASEMENT_IS_APPLICATION (self));
  g_assert (self->quit_state == CASEMENT_QUIT_STATE_KEEPING);

  g_clear_handle_id (&self->quit_timeout_id, g_source_remove);
  self->quit_state = CASEMENT_QUIT_STATE_NONE;

  /* QEMU runs in a session of its own: it lives on, and the next start of
   * Casement finds it. */
  g_application_quit (G_APPLICATION (self));
  g_application_release (G_APPLICATION (self));
}

static gboolean
casement_application_quit_keeping_timeout (gpointer user_data)
{
  CasementApplication *self = user_data;

  g_assert (CASEMENT_IS_APPLICATION (self));

  g_debug ("Quitting without %u screen(s): the VMs took too long", self->quit_screens_pending);
  self->quit_timeout_id = 0;
  casement_application_quit_keeping_done (self);

  return G_SOURCE_REMOVE;
}

static void
casement_application_quit_screen_saved (GObject      *object,
                                        GAsyncResult *result,
                                        gpointer      user_data)
{
  g_autoptr(CasementApplication) self = user_data;

  /* A VM without a new thumbnail runs on all the same (the debug log
   * says why). */
  casement_vm_row_save_thumbnail_finish (CASEMENT_VM (object), result, NULL);

  /* Too late: the application has gone on without it. */
  if (self->quit_state != CASEMENT_QUIT_STATE_KEEPING)
    return;

  g_assert (self->quit_screens_pending > 0);
  if (--self->quit_screens_pending == 0)
    casement_application_quit_keeping_done (self);
}

/* The VMs run on, and the library shows each by its screen as the user
 * left it: the windows go at once, the screens are saved in the
 * background, and the application quits once they are, or after
 * QUIT_KEEPING_TIMEOUT_MS whatever becomes of them. */
static void
casement_application_quit_keeping (CasementApplication *self,
                                   GPtrArray           *vms)
{
  g_autoptr(GList) windows = NULL;

  g_assert (CASEMENT_IS_APPLICATION (self));
  g_assert (self->quit_state == CASEMENT_QUIT_STATE_NONE);
  g_assert (vms->len > 0);

  self->quit_state = CASEMENT_QUIT_STATE_KEEPING;
  self->quit_screens_pending = vms->len;
  g_application_hold (G_APPLICATION (self));

  windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_widget_set_visible (l->data, FALSE);

  self->quit_timeout_id = g_timeout_add (QUIT_KEEPING_TIMEOUT_MS, casement_application_quit_keeping_timeout, self);
  for (guint i = 0; i < vms->len; i++)
    casement_vm_row_save_thumbnail_async (g_ptr_array_index (vms, i), NULL,
                                          casement_application_quit_screen_saved, g_object_ref (self));
}

/* @action is a "close-action": "keep-running" or "shut-down". */
static void
casement_application_quit_as (CasementApplication *self,
                              const char          *action)
{
  g_autoptr(GPtrArray) live = NULL;

  g_assert (CASEMENT_IS_APPLICATION (self));

  /* The VMs may have changed while the dialog asked. */
  live = casement_application_dup_live_vms (self);
  if (live->len == 0)
    g_application_quit (G_APPLICATION (self));
  else if (g_str_equal (action, "keep-running"))
    casement_application_quit_keeping (self, live);
  else
    casement_application_quit_shutting_down (self, live);
}

static void
casement_application_quit_response (CasementApplication *self,
                                    const char          *response,
                                    AdwMessageDialog    *dialog)
{
  GtkWidget *remember = adw_message_dialog_get_extra_child (dialog);

  g_assert (CASEMENT_IS_APPLICATION (self));
  g_assert (self->quit_state == CASEMENT_QUIT_STATE_ASKING);

  self->quit_dialog = NULL;
  self->quit_state = CASEMENT_QUIT_STATE_NONE;

  if (g_str_equal (response, "cancel"))
    return;

  if (remember != NULL && gtk_check_button_get_active (GTK_CHECK_BUTTON (remember)))
    g_settings_set_string (self->settings, "close-action", response);

  casement_application_quit_as (self, response);
}

static void
casement_application_ask_quit (CasementApplication *self,
                               GPtrArray           *live)
{
  g_autofree char *names = join_vm_names (live);
  g_autofree char *body = NULL;
  GtkWidget *default_widget;
  GtkWidget *dialog;

  g_assert (CASEMENT_IS_APPLICATION (self));
  g_assert (self->quit_state == CASEMENT_QUIT_STATE_NONE);

  /* Translators: %s is a list of virtual machine names */
  body = g_strdup_printf (ngettext ("%s can keep running in the background: Casement finds it again when it starts. Or shut it down, then quit.",
                                    "%s can keep running in the background: Casement finds them again when it starts. Or shut them all down, then quit.",
                                    live->len),
                          names);
  dialog = adw_message_dialog_new (casement_application_dialog_parent (self),
                                   _("Quit With Virtual Machines Running?"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "shut-down", _("_Shut Down All"),
                                    "keep-running", _("_Keep Running in Background"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "keep-running",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep-running");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  /* Without preferences there is nowhere to remember it. */
  if (self->settings != NULL)
    adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog),
                                        gtk_check_button_new_with_mnemonic (_("_Remember my choice")));

  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (casement_application_quit_response), self, G_CONNECT_SWAPPED);
  self->quit_state = CASEMENT_QUIT_STATE_ASKING;
  self->quit_dialog = ADW_MESSAGE_DIALOG (dialog);
  gtk_window_present (GTK_WINDOW (dialog));

  /* Enter answers with the default, as it would without the check, which
   * takes the first focus otherwise. */
  if ((default_widget = gtk_window_get_default_widget (GTK_WINDOW (dialog))))
    gtk_widget_grab_focus (default_widget);
}

/* Ctrl+Q, the library's menu and the tray's Quit: with live VMs, the user
 * says once for all what becomes of them, or the "close-action"
 * preference says it. */
static void
casement_application_quit_action (GSimpleAction *action,
                                  GVariant      *param,
                                  gpointer       user_data)
{
  CasementApplication *self = user_data;
  g_autoptr(GPtrArray) live = NULL;
  g_autofree char *close_action = NULL;

  g_assert (CASEMENT_IS_APPLICATION (self));

  if (self->quit_state != CASEMENT_QUIT_STATE_NONE)
    {
      if (self->quit_dialog != NULL)
        gtk_window_present (GTK_WINDOW (self->quit_dialog));
      return;
    }

  live = casement_application_dup_live_vms (self);
  if (live->len == 0)
    {
      g_application_quit (G_APPLICATION (self));
      return;
    }

  if (self->settings != NULL)
    close_action = g_settings_get_string (self->settings, "close-action");

  if (close_action == NULL || g_str_equal (close_action, "ask"))
    casement_application_ask_quit (self, live);
  else
    casement_application_quit_as (self, close_action);
}

static gboolean
casement_application_present_vm (CasementApplication *self,
                                 const char          *slug)
{
  CasementVm *vm;

  /* One window per VM: bring back the one that exists. */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (CASEMENT_IS_VM_WINDOW (l->data) &&
          g_strcmp0 (casement_vm_get_slug (casement_vm_window_get_vm (l->data)), slug) == 0)
        {
          gtk_window_present (l->data);
          return TRUE;
        }
    }

  if (!(vm = casement_library_lookup (self->library, slug)))
    return FALSE;

  gtk_window_present (GTK_WINDOW (casement_vm_window_new (ADW_APPLICATION (self), vm)));
  return TRUE;
}

static void
casement_application_open_vm_reloaded (GObject      *object,
                                       GAsyncResult *result,
                                       gpointer      user_data)
{
  g_autofree char *slug = user_data;
  CasementApplication *self = CASEMENT_APPLICATION (g_application_get_default ());
  g_autoptr(GError) error = NULL;

  if (!casement_library_reload_finish (CASEMENT_LIBRARY (object), result, &error))
    g_warning ("Cannot list virtual machines: %s", error->message);

  if (!casement_application_present_vm (self, slug))
    g_warning ("No virtual machine “%s” to open", slug);

  g_application_release (G_APPLICATION (self));
}

static void
casement_application_open_vm_action (GSimpleAction *action,
                                     GVariant      *param,
                                     gpointer       user_data)
{
  CasementApplication *self = user_data;
  const char *slug = g_variant_get_string (param, NULL);

  g_assert (CASEMENT_IS_APPLICATION (self));

  if (casement_application_present_vm (self, slug))
    return;

  /* Asked for at start-up (--open-vm), before the library was read. */
  g_application_hold (G_APPLICATION (self));
  casement_library_reload_async (self->library, NULL,
                                 casement_application_open_vm_reloaded, g_strdup (slug));
}

static const GActionEntry app_actions[] = {
  { "new-vm", casement_application_new_vm_action },
  { "open-vm", casement_application_open_vm_action, "s" },
  { "about", casement_application_about_action },
  { "preferences", casement_application_preferences_action },
  { "quit", casement_application_quit_action },
};

/* Preferences exist where the schema is installed; uninstalled runs and
 * tests may lack it, and get the defaults. The library lives in the
 * "vm-folder" preference, read once: windows and the tray share it. */
static void
casement_application_setup_library (CasementApplication *self)
{
  g_autoptr(CasementVmStore) store = NULL;

  self->settings = casement_settings_new ();
  store = casement_settings_new_vm_store (self->settings);
  self->library = casement_library_new (store);
}

/* The tray follows the "show-tray" preference; without preferences, it
 * is shown. */
static void
casement_application_setup_tray (CasementApplication *self)
{
  self->tray = casement_tray_new (G_APPLICATION (self), self->library);

  if (self->settings == NULL)
    {
      casement_tray_set_visible (self->tray, TRUE);
      return;
    }

  g_settings_bind (self->settings, "show-tray", self->tray, "visible", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "shutdown-timeout", self->tray, "shutdown-timeout", G_SETTINGS_BIND_GET);
}

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

/* GtkApplication gives each window its shortcuts window (gtk/help-overlay.ui);
 * the release shortcut in it is the user's, as the display uses it. */
static void
casement_application_window_added (GtkApplication *app,
                                   GtkWindow      *window)
{
  CasementApplication *self = CASEMENT_APPLICATION (app);
  GtkShortcutsWindow *overlay;
  GtkWidget *shortcut;

  GTK_APPLICATION_CLASS (casement_application_parent_class)->window_added (app, window);

  if (self->settings == NULL || !GTK_IS_APPLICATION_WINDOW (window) ||
      !(overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window))))
    return;

  if ((shortcut = find_buildable (GTK_WIDGET (overlay), "release_shortcut")))
    g_settings_bind (self->settings, "release-shortcut", shortcut, "accelerator", G_SETTINGS_BIND_GET);
}

/* Before the bus connection goes: the tray takes its icon off the bus. */
static void
casement_application_shutdown (GApplication *app)
{
  CasementApplication *self = CASEMENT_APPLICATION (app);

  g_clear_object (&self->tray);
  g_clear_object (&self->settings);

  G_APPLICATION_CLASS (casement_application_parent_class)->shutdown (app);
}

static void
casement_application_startup (GApplication *app)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *new_accels[] = { "<Control>n", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };

  /* Before the first window: picks GTK's renderer for this machine's GPU. */
  casement_display_choose_renderer ();

  G_APPLICATION_CLASS (casement_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.new-vm", new_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", preferences_accels);

  casement_application_setup_library (CASEMENT_APPLICATION (app));
  casement_application_setup_tray (CASEMENT_APPLICATION (app));
}

/* "casement --new-vm" (the desktop file's action) and "--open-vm SLUG"
 * reach the running instance, if any, as actions. */
static int
casement_application_handle_local_options (GApplication *app,
                                           GVariantDict *options)
{
  g_autoptr(GError) error = NULL;
  const char *open_vm = NULL;
  gboolean new_vm = g_variant_dict_contains (options, "new-vm");

  g_variant_dict_lookup (options, "open-vm", "&s", &open_vm);
  if (!new_vm && open_vm == NULL)
    return -1;

  if (!g_application_register (app, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  if (new_vm)
    g_action_group_activate_action (G_ACTION_GROUP (app), "new-vm", NULL);
  if (open_vm != NULL)
    g_action_group_activate_action (G_ACTION_GROUP (app), "open-vm", g_variant_new_string (open_vm));

  /* The first instance goes on to run; a second one is done. */
  return g_application_get_is_remote (app) ? 0 : -1;
}

static void
casement_application_dispose (GObject *object)
{
  CasementApplication *self = (CasementApplication *)object;

  g_clear_pointer (&self->quit_vms, g_ptr_array_unref);
  g_clear_pointer (&self->quit_failed, g_hash_table_unref);
  g_clear_object (&self->quit_cancellable);
  g_clear_handle_id (&self->quit_timeout_id, g_source_remove);
  g_clear_object (&self->library);

  G_OBJECT_CLASS (casement_application_parent_class)->dispose (object);
}

static void
casement_application_class_init (CasementApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  GtkApplicationClass *gtk_app_class = GTK_APPLICATION_CLASS (klass);

  object_class->dispose = casement_application_dispose;
  app_class->activate = casement_application_activate;
  app_class->startup = casement_application_startup;
  app_class->shutdown = casement_application_shutdown;
  app_class->handle_local_options = casement_application_handle_local_options;
  gtk_app_class->window_added = casement_application_window_added;
}

static void
casement_application_init (CasementApplication *self)
{
  g_application_add_main_option (G_APPLICATION (self), "new-vm", 0, G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_NONE, _("Create a new virtual machine"), NULL);
  g_application_add_main_option (G_APPLICATION (self), "open-vm", 0, G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_STRING, _("Open the window of a virtual machine"),
                                 _("NAME"));
}

CasementApplication *
casement_application_new (void)
{
  return g_object_new (CASEMENT_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/io/github/casement/Casement",
                       NULL);
}

guint
casement_application_get_shutdown_timeout (void)
{
  GSettings *settings = casement_application_get_default_settings ();

  return settings != NULL ? g_settings_get_uint (settings, "shutdown-timeout") : 0;
}

/* Returns: (transfer none) (nullable): the preferences of the running
 * CasementApplication; NULL when its settings schema is not installed, or
 * when the running application is another one (as in tests). */
GSettings *
casement_application_get_default_settings (void)
{
  GApplication *app = g_application_get_default ();

  if (!CASEMENT_IS_APPLICATION (app))
    return NULL;

  return CASEMENT_APPLICATION (app)->settings;
}
