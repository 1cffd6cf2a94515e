/* casement-vm-window.c
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

#define G_LOG_DOMAIN "casement-vm-window"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "casement-application.h"
#include "casement-display.h"
#include "casement-qemu-command.h"
#include "casement-vm-row.h"
#include "casement-vm-settings.h"
#include "casement-vm-window.h"
#include "casement-window.h"

struct _CasementVmWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  CasementDisplay      *display;
  GtkRevealer          *fullscreen_revealer;
  GtkImage             *grab_indicator;
  AdwHeaderBar         *header_bar;
  GtkBox               *main_box;
  GtkMenuButton        *menu_button;
  GtkToggleButton      *pause_button;
  GMenu                *snapshot_section;
  GtkButton            *start_button;
  AdwToastOverlay      *toast_overlay;
  AdwWindowTitle       *window_title;

  /* Owned references */
  CasementVm           *vm;
  GCancellable         *cancellable;

  /* Toasts on screen: the display steps aside for them. */
  guint                 n_toasts;

  /* Set once the user chose what closing does, so close-request lets go. */
  guint                 close_confirmed : 1;
};

G_DEFINE_FINAL_TYPE (CasementVmWindow, casement_vm_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_VM,
  PROP_PAUSED,
  PROP_CLIPBOARD_SHARING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
state_is_live (CasementVmState state)
{
  return state == CASEMENT_VM_STATE_RUNNING || state == CASEMENT_VM_STATE_PAUSED;
}

/* On X11 without GL the guest's frame may sit in an X window of its own,
 * above anything GTK draws there: the display hands the frame back to
 * GTK while a toast or the fullscreen header bar is over it. */
static void
casement_vm_window_update_covered (CasementVmWindow *self)
{
  /* Toasts are dismissed as the window goes, too. */
  if (self->display == NULL || self->fullscreen_revealer == NULL)
    return;

  casement_display_set_covered (self->display,
                                self->n_toasts > 0 ||
                                gtk_revealer_get_reveal_child (self->fullscreen_revealer) ||
                                gtk_revealer_get_child_revealed (self->fullscreen_revealer));
}

static void
casement_vm_window_toast_dismissed (CasementVmWindow *self)
{
  g_assert (self->n_toasts > 0);

  self->n_toasts--;
  casement_vm_window_update_covered (self);
}

/* Every toast goes through here, so the display knows it is covered. */
static void
casement_vm_window_add_toast (CasementVmWindow *self,
                              AdwToast         *toast)
{
  self->n_toasts++;
  g_signal_connect_object (toast, "dismissed",
                           G_CALLBACK (casement_vm_window_toast_dismissed), self, G_CONNECT_SWAPPED);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
  casement_vm_window_update_covered (self);
}

static void
casement_vm_window_install_finished (CasementVmWindow *self)
{
  casement_vm_window_add_toast (self, adw_toast_new (_("Windows is installed. The answer disc with your password was removed.")));
}

static void
casement_vm_window_toast_error (CasementVmWindow *self,
                                const char       *what,
                                const GError     *error)
{
  AdwToast *toast;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* QEMU's own reason, so the user can act on it. */
  toast = adw_toast_new_format ("%s: %s", what, error->message);
  adw_toast_set_timeout (toast, 0);
  casement_vm_window_add_toast (self, toast);
}

static void
casement_vm_window_connect_display (CasementVmWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *runtime_dir = NULL;
  g_autofree char *socket_path = NULL;
  CasementVmConfig *config = casement_vm_get_config (self->vm);
  gboolean webdav;

  if (!(runtime_dir = casement_vm_dup_runtime_dir (self->vm, &error)))
    {
      casement_vm_window_toast_error (self, _("Cannot show the screen"), error);
      return;
    }

  socket_path = g_build_filename (runtime_dir, CASEMENT_RUNTIME_SPICE_SOCKET, NULL);
  if (g_strcmp0 (casement_display_get_unix_path (self->display), socket_path) == 0 &&
      casement_display_get_state (self->display) != CASEMENT_DISPLAY_STATE_DISCONNECTED)
    return;

  /* A WebDAV share travels over this SPICE connection. */
  webdav = config != NULL && casement_vm_get_share_method (self->vm) == CASEMENT_SHARE_METHOD_WEBDAV;
  casement_display_set_shared_folder (self->display,
                                      webdav ? casement_vm_config_get_share_folder (config) : NULL,
                                      webdav && casement_vm_config_get_share_read_only (config));
  casement_display_connect (self->display, socket_path);
}

static void
casement_vm_window_update (CasementVmWindow *self)
{
  CasementVmState state = casement_vm_get_state (self->vm);
  CasementVmConfig *config = casement_vm_get_config (self->vm);
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean live = state_is_live (state);
  gboolean stopped = state == CASEMENT_VM_STATE_STOPPED || state == CASEMENT_VM_STATE_CRASHED;
  const char *name = casement_vm_get_display_name (self->vm);

  gtk_window_set_title (GTK_WINDOW (self), name);
  adw_window_title_set_title (self->window_title, name);
  adw_window_title_set_subtitle (self->window_title, casement_vm_state_to_label (state));

  gtk_widget_action_set_enabled (widget, "vm.start", stopped);
  gtk_widget_action_set_enabled (widget, "vm.shut-down", state == CASEMENT_VM_STATE_RUNNING);
  gtk_widget_action_set_enabled (widget, "vm.reset", live);
  gtk_widget_action_set_enabled (widget, "vm.force-off", live || state == CASEMENT_VM_STATE_STOPPING);
  gtk_widget_action_set_enabled (widget, "vm.paused", live);
  gtk_widget_action_set_enabled (widget, "vm.send-keys", state == CASEMENT_VM_STATE_RUNNING);
  gtk_widget_action_set_enabled (widget, "vm.change-cd", live);
  gtk_widget_action_set_enabled (widget, "vm.insert-drivers",
                                 live && config != NULL &&
                                 casement_vm_config_get_drivers_iso (config) != NULL);
  gtk_widget_action_set_enabled (widget, "vm.eject", live);
  gtk_widget_action_set_enabled (widget, "vm.screenshot", live);
  gtk_widget_action_set_enabled (widget, "vm.snapshot-create", live);
  gtk_widget_action_set_enabled (widget, "vm.snapshot-revert", live);
  gtk_widget_action_set_enabled (widget, "vm.snapshot-delete", live);
  gtk_widget_action_set_enabled (widget, "vm.settings", stopped);

  gtk_widget_set_visible (GTK_WIDGET (self->start_button), stopped);
  gtk_widget_set_visible (GTK_WIDGET (self->pause_button), !stopped);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->pause_button),
                               state == CASEMENT_VM_STATE_PAUSED ? _("Resume") : _("Pause"));

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);

  if (live)
    casement_vm_window_connect_display (self);
  else if (stopped)
    casement_display_disconnect (self->display);
}

static void
casement_vm_window_share_problem (CasementVmWindow *self)
{
  const char *problem = casement_vm_get_share_problem (self->vm);
  g_autofree char *markup = NULL;
  AdwToast *toast;

  if (problem == NULL)
    return;

  markup = g_markup_escape_text (problem, -1);
  toast = adw_toast_new (markup);
  adw_toast_set_timeout (toast, 0);
  casement_vm_window_add_toast (self, toast);
}

static void
casement_vm_window_grab_changed (CasementVmWindow *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->grab_indicator),
                          casement_display_get_keyboard_grabbed (self->display));
}

/* Controls. Each keeps the window alive until QEMU has answered. */

static void
casement_vm_window_start_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(CasementVmWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!casement_vm_start_finish (CASEMENT_VM (object), result, &error))
    casement_vm_window_toast_error (self, _("Could not start"), error);
}

static void
casement_vm_window_start_action (GtkWidget  *widget,
                                 const char *action_name,
                                 GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);

  casement_vm_start_async (self->vm, NULL, self->cancellable,
                           casement_vm_window_start_cb, g_object_ref (self));
}

static void
casement_vm_window_force_off_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(CasementVmWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!casement_vm_force_off_finish (CASEMENT_VM (object), result, &error))
    casement_vm_window_toast_error (self, _("Could not force off"), error);
}

static void
casement_vm_window_force_off_action (GtkWidget  *widget,
                                     const char *action_name,
                                     GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);

  casement_vm_force_off_async (self->vm, self->cancellable,
                               casement_vm_window_force_off_cb, g_object_ref (self));
}

static void
casement_vm_window_shut_down_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(CasementVmWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (casement_vm_row_shut_down_finish (CASEMENT_VM (object), result, &error))
    return;

  if (g_error_matches (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_TIMEOUT))
    {
      AdwToast *toast = adw_toast_new (_("The guest did not shut down in time"));

      /* Offer, never decide: forcing off can lose the guest's unsaved work. */
      adw_toast_set_button_label (toast, _("_Force Off"));
      adw_toast_set_action_name (toast, "vm.force-off");
      adw_toast_set_timeout (toast, 0);
      casement_vm_window_add_toast (self, toast);
      return;
    }

  casement_vm_window_toast_error (self, _("Could not shut down"), error);
}

static void
casement_vm_window_shut_down_action (GtkWidget  *widget,
                                     const char *action_name,
                                     GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);

  casement_vm_row_shut_down_async (self->vm, casement_application_get_shutdown_timeout (),
                                   self->cancellable, casement_vm_window_shut_down_cb,
                                   g_object_ref (self));
}

static void
casement_vm_window_reset_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(CasementVmWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!casement_vm_reset_finish (CASEMENT_VM (object), result, &error))
    casement_vm_window_toast_error (self, _("Could not reset"), error);
}

static void
casement_vm_window_reset_action (GtkWidget  *widget,
                                 const char *action_name,
                                 GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);

  casement_vm_reset_async (self->vm, self->cancellable,
                           casement_vm_window_reset_cb, g_object_ref (self));
}

static void
casement_vm_window_pause_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(CasementVmWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (g_async_result_is_tagged (result, casement_vm_pause_async))
    ok = casement_vm_pause_finish (CASEMENT_VM (object), result, &error);
  else
    ok = casement_vm_resume_finish (CASEMENT_VM (object), result, &error);

  if (!ok)
    {
      casement_vm_window_toast_error (self, _("Could not pause or resume"), error);
      /* The toggle shows what QEMU says, not what was asked. */
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
    }
}

static gboolean
casement_vm_window_get_paused (CasementVmWindow *self)
{
  return casement_vm_get_state (self->vm) == CASEMENT_VM_STATE_PAUSED;
}

static void
casement_vm_window_set_paused (CasementVmWindow *self,
                               gboolean          paused)
{
  if (!!paused == casement_vm_window_get_paused (self))
    return;

  if (paused)
    casement_vm_pause_async (self->vm, self->cancellable,
                             casement_vm_window_pause_cb, g_object_ref (self));
  else
    casement_vm_resume_async (self->vm, self->cancellable,
                              casement_vm_window_pause_cb, g_object_ref (self));
}

static void
casement_vm_window_send_keys_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(CasementVmWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!casement_vm_send_keys_finish (CASEMENT_VM (object), result, &error))
    casement_vm_window_toast_error (self, _("Could not send the keys"), error);
}

static void
casement_vm_window_send_keys_action (GtkWidget  *widget,
                                     const char *action_name,
                                     GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);
  g_auto(GStrv) qcodes = g_strsplit (g_variant_get_string (param, NULL), "+", -1);

  casement_vm_send_keys_async (self->vm, (const char * const *) qcodes, self->cancellable,
                               casement_vm_window_send_keys_cb, g_object_ref (self));
}

static void
casement_vm_window_cd_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(CasementVmWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (g_async_result_is_tagged (result, casement_vm_eject_async))
    ok = casement_vm_eject_finish (CASEMENT_VM (object), result, &error);
  else
    ok = casement_vm_change_cd_finish (CASEMENT_VM (object), result, &error);

  if (!ok)
    casement_vm_window_toast_error (self, _("Could not change the CD"), error);
}

typedef struct
{
  CasementVmWindow *self;
  char             *drive_id;
} ChooseCd;

static void
casement_vm_window_choose_cd_response (GtkNativeDialog *dialog,
                                       int              response,
                                       gpointer         user_data)
{
  ChooseCd *choose = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        casement_vm_change_cd_async (choose->self->vm, choose->drive_id, path,
                                     choose->self->cancellable,
                                     casement_vm_window_cd_cb, g_object_ref (choose->self));
    }

  g_object_unref (choose->self);
  g_free (choose->drive_id);
  g_free (choose);
  g_object_unref (dialog);
}

static void
casement_vm_window_change_cd_action (GtkWidget  *widget,
                                     const char *action_name,
                                     GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *chooser;
  ChooseCd *choose;

  gtk_file_filter_set_name (filter, _("Disc images"));
  gtk_file_filter_add_pattern (filter, "*.iso");
  gtk_file_filter_add_pattern (filter, "*.ISO");
  gtk_file_filter_add_mime_type (filter, "application/x-cd-image");

  chooser = gtk_file_chooser_native_new (_("Choose a Disc Image"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Insert"), NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);

  choose = g_new0 (ChooseCd, 1);
  choose->self = g_object_ref (self);
  choose->drive_id = g_variant_dup_string (param, NULL);
  g_signal_connect (chooser, "response", G_CALLBACK (casement_vm_window_choose_cd_response), choose);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
casement_vm_window_insert_drivers_action (GtkWidget  *widget,
                                          const char *action_name,
                                          GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);
  CasementVmConfig *config = casement_vm_get_config (self->vm);

  g_return_if_fail (config != NULL);

  casement_vm_change_cd_async (self->vm, "cd-drivers", casement_vm_config_get_drivers_iso (config),
                               self->cancellable, casement_vm_window_cd_cb, g_object_ref (self));
}

static void
casement_vm_window_eject_action (GtkWidget  *widget,
                                 const char *action_name,
                                 GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);

  casement_vm_eject_async (self->vm, g_variant_get_string (param, NULL), self->cancellable,
                           casement_vm_window_cd_cb, g_object_ref (self));
}

typedef struct
{
  CasementVmWindow *self;
  char             *path;
} Screenshot;

static void
casement_vm_window_screenshot_cb (GObject      *object,
                                  GAsyncResult *result,
                                  gpointer      user_data)
{
  Screenshot *shot = user_data;
  g_autoptr(GError) error = NULL;

  if (!casement_vm_screendump_finish (CASEMENT_VM (object), result, &error))
    {
      casement_vm_window_toast_error (shot->self, _("Could not take a screenshot"), error);
    }
  else
    {
      g_autoptr(GFile) file = g_file_new_for_path (shot->path);
      g_autofree char *uri = g_file_get_uri (file);
      AdwToast *toast = adw_toast_new (_("Screenshot saved to Pictures"));

      adw_toast_set_button_label (toast, _("_Open"));
      adw_toast_set_action_name (toast, "vm.open-uri");
      adw_toast_set_action_target (toast, "s", uri);
      casement_vm_window_add_toast (shot->self, toast);
    }

  g_object_unref (shot->self);
  g_free (shot->path);
  g_free (shot);
}

static char *
casement_vm_window_screenshot_path (CasementVmWindow  *self,
                                    GError           **error)
{
  const char *pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%d %H-%M-%S");
  g_autofree char *name = NULL;
  g_autofree char *dir = NULL;

  dir = g_build_filename (pictures != NULL ? pictures : g_get_home_dir (), NULL);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot create %s: %s"), dir, g_strerror (errsv));
      return NULL;
    }

  /* Translators: a screenshot's file name: the VM's name and the time. */
  name = g_strdup_printf (_("%s %s.png"),
                          casement_vm_get_display_name (self->vm),
                          stamp);
  g_strdelimit (name, "/", '-');

  return g_build_filename (dir, name, NULL);
}

static void
casement_vm_window_screenshot_action (GtkWidget  *widget,
                                      const char *action_name,
                                      GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  Screenshot *shot;
  char *path;

  if (!(path = casement_vm_window_screenshot_path (self, &error)))
    {
      casement_vm_window_toast_error (self, _("Could not take a screenshot"), error);
      return;
    }

  shot = g_new0 (Screenshot, 1);
  shot->self = g_object_ref (self);
  shot->path = path;
  casement_vm_screendump_async (self->vm, path, self->cancellable,
                                casement_vm_window_screenshot_cb, shot);
}

static void
casement_vm_window_open_uri_action (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *param)
{
  g_app_info_launch_default_for_uri_async (g_variant_get_string (param, NULL), NULL, NULL, NULL, NULL);
}

/* Snapshots */

static void
casement_vm_window_snapshot_list_cb (GObject      *object,
                                     GAsyncResult *result,
                                     gpointer      user_data)
{
  g_autoptr(CasementVmWindow) self = user_data;
  g_autoptr(GPtrArray) snapshots = NULL;
  g_autoptr(GError) error = NULL;

  g_menu_remove_all (self->snapshot_section);

  if (!(snapshots = casement_vm_snapshot_list_finish (CASEMENT_VM (object), result, &error)))
    {
      g_debug ("Cannot list snapshots: %s", error->message);
      return;
    }

  for (guint i = 0; i < snapshots->len; i++)
    {
      const CasementVmSnapshot *snapshot = g_ptr_array_index (snapshots, i);
      g_autoptr(GDateTime) date = g_date_time_new_from_unix_local (snapshot->date_unix);
      g_autofree char *when = g_date_time_format (date, "%x %X");
      g_autofree char *label = g_strdup_printf ("%s — %s", snapshot->name, when);
      g_autoptr(GMenu) submenu = g_menu_new ();
      g_autoptr(GMenuItem) revert = g_menu_item_new (_("Revert"), NULL);
      g_autoptr(GMenuItem) remove = g_menu_item_new (_("Delete"), NULL);

      g_menu_item_set_action_and_target (revert, "vm.snapshot-revert", "s", snapshot->name);
      g_menu_item_set_action_and_target (remove, "vm.snapshot-delete", "s", snapshot->name);
      g_menu_append_item (submenu, revert);
      g_menu_append_item (submenu, remove);
      g_menu_append_submenu (self->snapshot_section, label, G_MENU_MODEL (submenu));
    }
}

static void
casement_vm_window_refresh_snapshots (CasementVmWindow *self)
{
  if (!state_is_live (casement_vm_get_state (self->vm)))
    return;

  casement_vm_snapshot_list_async (self->vm, self->cancellable,
                                   casement_vm_window_snapshot_list_cb, g_object_ref (self));
}

static void
casement_vm_window_snapshot_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(CasementVmWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (g_async_result_is_tagged (result, casement_vm_snapshot_create_async))
    ok = casement_vm_snapshot_create_finish (CASEMENT_VM (object), result, &error);
  else if (g_async_result_is_tagged (result, casement_vm_snapshot_revert_async))
    ok = casement_vm_snapshot_revert_finish (CASEMENT_VM (object), result, &error);
  else
    ok = casement_vm_snapshot_delete_finish (CASEMENT_VM (object), result, &error);

  if (!ok)
    casement_vm_window_toast_error (self, _("Snapshot failed"), error);
  else
    casement_vm_window_add_toast (self, adw_toast_new (_("Done")));
}

static void
casement_vm_window_snapshot_name_response (AdwMessageDialog *dialog,
                                           const char       *response,
                                           gpointer          user_data)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (user_data);
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  if (g_strcmp0 (response, "create") != 0 || *name == '\0')
    return;

  casement_vm_snapshot_create_async (self->vm, name, self->cancellable,
                                     casement_vm_window_snapshot_cb, g_object_ref (self));
}

static void
casement_vm_window_snapshot_create_action (GtkWidget  *widget,
                                           const char *action_name,
                                           GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *suggestion = g_date_time_format (now, "%Y-%m-%d-%H%M");
  GtkWidget *dialog;
  GtkWidget *entry;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Take a Snapshot"),
                                   _("The guest pauses while its memory and disks are saved."));
  entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (entry), suggestion);
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "create", _("_Take Snapshot"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "create",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "create");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (casement_vm_window_snapshot_name_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
casement_vm_window_snapshot_revert_action (GtkWidget  *widget,
                                           const char *action_name,
                                           GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);

  casement_vm_snapshot_revert_async (self->vm, g_variant_get_string (param, NULL), self->cancellable,
                                     casement_vm_window_snapshot_cb, g_object_ref (self));
}

static void
casement_vm_window_snapshot_delete_action (GtkWidget  *widget,
                                           const char *action_name,
                                           GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);

  casement_vm_snapshot_delete_async (self->vm, g_variant_get_string (param, NULL), self->cancellable,
                                     casement_vm_window_snapshot_cb, g_object_ref (self));
}

static void
casement_vm_window_settings_action (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *param)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);

  casement_vm_settings_show (GTK_WINDOW (self), self->vm, NULL);
}

/* Keyboard shortcuts. The display takes every key while it has the focus,
 * in the capture phase; these run before it, from the window, but only
 * while the guest does not have the keyboard: a grabbed keyboard belongs
 * to the guest, bar the release shortcut. */
static gboolean
casement_vm_window_shortcut (GtkWidget *widget,
                             GVariant  *args,
                             gpointer   user_data)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (widget);
  const char *action_name;
  GVariant *target = NULL;

  if (casement_display_get_keyboard_grabbed (self->display))
    return FALSE;

  g_variant_get (args, "(&smv)", &action_name, &target);
  gtk_widget_activate_action_variant (widget, action_name, target);
  g_clear_pointer (&target, g_variant_unref);

  return TRUE;
}

static void
casement_vm_window_add_shortcuts (CasementVmWindow *self)
{
  static const struct {
    const char *trigger;
    const char *action;
    const char *target;
  } shortcuts[] = {
    { "<Control><Shift>p", "vm.paused", NULL },
    { "<Control><Shift>s", "vm.screenshot", NULL },
    { "<Control><Alt>End", "vm.send-keys", "ctrl+alt+delete" },
    { "F11", "win.fullscreen", NULL },
  };
  GtkEventController *controller = gtk_shortcut_controller_new ();

  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  for (guint i = 0; i < G_N_ELEMENTS (shortcuts); i++)
    {
      GtkShortcutTrigger *trigger = gtk_shortcut_trigger_parse_string (shortcuts[i].trigger);
      GtkShortcutAction *action = gtk_callback_action_new (casement_vm_window_shortcut, NULL, NULL);
      GtkShortcut *shortcut = gtk_shortcut_new (trigger, action);
      GVariant *target = shortcuts[i].target != NULL ? g_variant_new_string (shortcuts[i].target) : NULL;

      gtk_shortcut_set_arguments (shortcut, g_variant_new ("(smv)", shortcuts[i].action, target));
      gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller), shortcut);
    }
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

/* Fullscreen: the header bar moves into a revealer over the guest and
 * shows when the pointer touches the top edge. */

static void
casement_vm_window_fullscreen_action (GtkWidget  *widget,
                                      const char *action_name,
                                      GVariant   *param)
{
  GtkWindow *window = GTK_WINDOW (widget);

  if (gtk_window_is_fullscreen (window))
    gtk_window_unfullscreen (window);
  else
    gtk_window_fullscreen (window);
}

static void
casement_vm_window_fullscreen_changed (CasementVmWindow *self)
{
  GtkWidget *header = GTK_WIDGET (self->header_bar);

  g_object_ref (header);

  if (gtk_window_is_fullscreen (GTK_WINDOW (self)))
    {
      if (gtk_widget_get_parent (header) == GTK_WIDGET (self->main_box))
        {
          gtk_box_remove (self->main_box, header);
          gtk_revealer_set_child (self->fullscreen_revealer, header);
        }
    }
  else if (gtk_widget_get_parent (header) != GTK_WIDGET (self->main_box))
    {
      gtk_revealer_set_child (self->fullscreen_revealer, NULL);
      gtk_box_prepend (self->main_box, header);
      gtk_revealer_set_reveal_child (self->fullscreen_revealer, FALSE);
    }

  g_object_unref (header);
}

static void
casement_vm_window_motion (CasementVmWindow         *self,
                           double                    x,
                           double                    y,
                           GtkEventControllerMotion *motion)
{
  gboolean reveal;

  if (!gtk_window_is_fullscreen (GTK_WINDOW (self)))
    return;

  reveal = gtk_revealer_get_reveal_child (self->fullscreen_revealer);
  if (y <= 4)
    reveal = TRUE;
  else if (y > gtk_widget_get_height (GTK_WIDGET (self->header_bar)) + 24 &&
           !gtk_widget_get_visible (GTK_WIDGET (gtk_menu_button_get_popover (self->menu_button))))
    reveal = FALSE;

  gtk_revealer_set_reveal_child (self->fullscreen_revealer, reveal);
}

/* Closing: the VM outlives its window, but only if the user says so, or
 * said so once for all ("close-action"). */

static gboolean
casement_vm_window_close_idle (gpointer user_data)
{
  gtk_window_close (GTK_WINDOW (user_data));

  return G_SOURCE_REMOVE;
}

/* The window goes, the shutdown goes on: the library window, where the
 * user is back to, follows it and offers force off if the guest does
 * not power off. */
static void
casement_vm_window_shut_down_in_library (CasementVmWindow *self)
{
  GtkApplication *application = gtk_window_get_application (GTK_WINDOW (self));

  g_assert (CASEMENT_IS_VM_WINDOW (self));
  g_assert (GTK_IS_APPLICATION (application));

  /* Activation opens the library window when it is closed, and shows it. */
  g_application_activate (G_APPLICATION (application));
  for (GList *l = gtk_application_get_windows (application); l != NULL; l = l->next)
    {
      if (CASEMENT_IS_WINDOW (l->data))
        {
          casement_window_shut_down_vm (l->data, self->vm);
          return;
        }
    }

  g_assert_not_reached ();
}

/* @action is a "close-action": "keep-running" or "shut-down". */
static void
casement_vm_window_close_as (CasementVmWindow *self,
                             const char       *action)
{
  g_assert (CASEMENT_IS_VM_WINDOW (self));

  /* The library shows the VM by its last screen. */
  if (g_str_equal (action, "shut-down"))
    casement_vm_window_shut_down_in_library (self);
  else
    casement_vm_row_save_thumbnail_async (self->vm, NULL, NULL, NULL);

  self->close_confirmed = TRUE;
}

static void
casement_vm_window_close_response (AdwMessageDialog *dialog,
                                   const char       *response,
                                   gpointer          user_data)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (user_data);
  GtkWidget *remember = adw_message_dialog_get_extra_child (dialog);
  GSettings *settings = casement_application_get_default_settings ();

  if (g_str_equal (response, "cancel"))
    return;

  if (settings != NULL && remember != NULL &&
      gtk_check_button_get_active (GTK_CHECK_BUTTON (remember)))
    g_settings_set_string (settings, "close-action", response);

  casement_vm_window_close_as (self, response);

  /* Once the dialog is gone: it is transient for this window, and closing
   * the window under its response handler frees what it still uses. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, casement_vm_window_close_idle, g_object_ref (self), g_object_unref);
}

static gboolean
casement_vm_window_close_request (GtkWindow *window)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (window);
  CasementVmState state = casement_vm_get_state (self->vm);
  GSettings *settings = casement_application_get_default_settings ();
  g_autofree char *action = NULL;
  GtkWidget *default_widget;
  GtkWidget *dialog;

  if (self->close_confirmed || !state_is_live (state))
    return GTK_WINDOW_CLASS (casement_vm_window_parent_class)->close_request (window);

  if (settings != NULL)
    action = g_settings_get_string (settings, "close-action");
  if (action != NULL && !g_str_equal (action, "ask"))
    {
      casement_vm_window_close_as (self, action);
      return GTK_WINDOW_CLASS (casement_vm_window_parent_class)->close_request (window);
    }

  dialog = adw_message_dialog_new (window, _("Keep the Virtual Machine Running?"),
                                   _("It can go on in the background; open it again from the library."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "shut-down", _("_Shut Down"),
                                    "keep-running", _("_Keep Running"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "keep-running",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep-running");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  /* Without preferences there is nowhere to remember it. */
  if (settings != NULL)
    adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog),
                                        gtk_check_button_new_with_mnemonic (_("_Remember my choice")));

  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (casement_vm_window_close_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));

  /* Enter answers with the default, as it would without the check, which
   * takes the first focus otherwise. */
  if ((default_widget = gtk_window_get_default_widget (GTK_WINDOW (dialog))))
    gtk_widget_grab_focus (default_widget);

  return TRUE;
}

static void
casement_vm_window_reconnect (CasementVmWindow *self,
                              CasementDisplay  *display)
{
  CasementVmState state = casement_vm_get_state (self->vm);

  /* A stopped VM's screen comes back by starting the VM. */
  if (state == CASEMENT_VM_STATE_STOPPED || state == CASEMENT_VM_STATE_CRASHED)
    {
      g_signal_stop_emission_by_name (display, "reconnect");
      gtk_widget_activate_action (GTK_WIDGET (self), "vm.start", NULL);
    }
}

static void
casement_vm_window_constructed (GObject *object)
{
  CasementVmWindow *self = (CasementVmWindow *)object;
  GSettings *settings;

  G_OBJECT_CLASS (casement_vm_window_parent_class)->constructed (object);

  if ((settings = casement_application_get_default_settings ()) != NULL)
    g_settings_bind (settings, "release-shortcut", self->display, "release-shortcut", G_SETTINGS_BIND_GET);

  g_signal_connect_object (self->vm, "notify::state",
                           G_CALLBACK (casement_vm_window_update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->vm, "notify::config",
                           G_CALLBACK (casement_vm_window_update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->vm, "notify::share-problem",
                           G_CALLBACK (casement_vm_window_share_problem), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->vm, "install-finished",
                           G_CALLBACK (casement_vm_window_install_finished), self, G_CONNECT_SWAPPED);
  casement_vm_window_update (self);
  casement_vm_window_share_problem (self);
}

static void
casement_vm_window_dispose (GObject *object)
{
  CasementVmWindow *self = (CasementVmWindow *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CASEMENT_TYPE_VM_WINDOW);
  g_clear_object (&self->vm);

  G_OBJECT_CLASS (casement_vm_window_parent_class)->dispose (object);
}

static void
casement_vm_window_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (object);

  switch (prop_id)
    {
    case PROP_VM:
      g_value_set_object (value, self->vm);
      break;

    case PROP_PAUSED:
      g_value_set_boolean (value, self->vm != NULL && casement_vm_window_get_paused (self));
      break;

    case PROP_CLIPBOARD_SHARING:
      /* Asked for by the property action before the template is built. */
      g_value_set_boolean (value, self->display == NULL ||
                                  casement_display_get_clipboard_sharing (self->display));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_window_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  CasementVmWindow *self = CASEMENT_VM_WINDOW (object);

  switch (prop_id)
    {
    case PROP_VM:
      self->vm = g_value_dup_object (value);
      break;

    case PROP_PAUSED:
      casement_vm_window_set_paused (self, g_value_get_boolean (value));
      break;

    case PROP_CLIPBOARD_SHARING:
      casement_display_set_clipboard_sharing (self->display, g_value_get_boolean (value));
      g_object_notify_by_pspec (object, pspec);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_window_class_init (CasementVmWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = casement_vm_window_constructed;
  object_class->dispose = casement_vm_window_dispose;
  object_class->get_property = casement_vm_window_get_property;
  object_class->set_property = casement_vm_window_set_property;
  window_class->close_request = casement_vm_window_close_request;

  properties[PROP_VM] =
    g_param_spec_object ("vm", NULL, NULL,
                         CASEMENT_TYPE_VM,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* What QEMU reports; writing it asks QEMU to pause or resume. */
  properties[PROP_PAUSED] =
    g_param_spec_boolean ("paused", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CLIPBOARD_SHARING] =
    g_param_spec_boolean ("clipboard-sharing", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (CASEMENT_TYPE_DISPLAY);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/casement/Casement/ui/casement-vm-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, display);
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, fullscreen_revealer);
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, grab_indicator);
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, main_box);
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, pause_button);
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, snapshot_section);
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, start_button);
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CasementVmWindow, window_title);

  gtk_widget_class_install_action (widget_class, "vm.start", NULL, casement_vm_window_start_action);
  gtk_widget_class_install_action (widget_class, "vm.shut-down", NULL, casement_vm_window_shut_down_action);
  gtk_widget_class_install_action (widget_class, "vm.reset", NULL, casement_vm_window_reset_action);
  gtk_widget_class_install_action (widget_class, "vm.force-off", NULL, casement_vm_window_force_off_action);
  gtk_widget_class_install_property_action (widget_class, "vm.paused", "paused");
  gtk_widget_class_install_action (widget_class, "vm.send-keys", "s", casement_vm_window_send_keys_action);
  gtk_widget_class_install_action (widget_class, "vm.change-cd", "s", casement_vm_window_change_cd_action);
  gtk_widget_class_install_action (widget_class, "vm.insert-drivers", NULL, casement_vm_window_insert_drivers_action);
  gtk_widget_class_install_action (widget_class, "vm.eject", "s", casement_vm_window_eject_action);
  gtk_widget_class_install_action (widget_class, "vm.screenshot", NULL, casement_vm_window_screenshot_action);
  gtk_widget_class_install_action (widget_class, "vm.open-uri", "s", casement_vm_window_open_uri_action);
  gtk_widget_class_install_action (widget_class, "vm.snapshot-create", NULL, casement_vm_window_snapshot_create_action);
  gtk_widget_class_install_action (widget_class, "vm.snapshot-revert", "s", casement_vm_window_snapshot_revert_action);
  gtk_widget_class_install_action (widget_class, "vm.snapshot-delete", "s", casement_vm_window_snapshot_delete_action);
  gtk_widget_class_install_property_action (widget_class, "vm.clipboard-sharing", "clipboard-sharing");
  gtk_widget_class_install_action (widget_class, "win.fullscreen", NULL, casement_vm_window_fullscreen_action);
  gtk_widget_class_install_action (widget_class, "vm.settings", NULL, casement_vm_window_settings_action);
}

static void
casement_vm_window_init (CasementVmWindow *self)
{
  GtkEventController *motion;

  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_object (self->display, "notify::keyboard-grabbed",
                           G_CALLBACK (casement_vm_window_grab_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->display, "reconnect",
                           G_CALLBACK (casement_vm_window_reconnect), self, G_CONNECT_SWAPPED);
  /* GTK 4.8's menu button has no "active": watch its popover instead. */
  g_signal_connect_object (gtk_menu_button_get_popover (self->menu_button), "show",
                           G_CALLBACK (casement_vm_window_refresh_snapshots), self, G_CONNECT_SWAPPED);
  g_signal_connect (self, "notify::fullscreened",
                    G_CALLBACK (casement_vm_window_fullscreen_changed), NULL);
  g_signal_connect_object (self->fullscreen_revealer, "notify::reveal-child",
                           G_CALLBACK (casement_vm_window_update_covered), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->fullscreen_revealer, "notify::child-revealed",
                           G_CALLBACK (casement_vm_window_update_covered), self, G_CONNECT_SWAPPED);

  motion = gtk_event_controller_motion_new ();
  gtk_event_controller_set_propagation_phase (motion, GTK_PHASE_CAPTURE);
  g_signal_connect_object (motion, "motion", G_CALLBACK (casement_vm_window_motion),
                           self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  casement_vm_window_add_shortcuts (self);
}

CasementVmWindow *
casement_vm_window_new (AdwApplication *application,
                        CasementVm     *vm)
{
  g_return_val_if_fail (ADW_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (CASEMENT_IS_VM (vm), NULL);

  return g_object_new (CASEMENT_TYPE_VM_WINDOW,
                       "application", application,
                       "vm", vm,
                       NULL);
}

CasementVm *
casement_vm_window_get_vm (CasementVmWindow *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM_WINDOW (self), NULL);

  return self->vm;
}

GtkWidget *
casement_vm_window_get_display (CasementVmWindow *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM_WINDOW (self), NULL);

  return GTK_WIDGET (self->display);
}
