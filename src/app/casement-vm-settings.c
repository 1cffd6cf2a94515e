/* casement-vm-settings.c
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

#define G_LOG_DOMAIN "casement-vm-settings"

#include "config.h"

#include <glib/gi18n.h>

#include "casement-media.h"
#include "casement-qemu-command.h"
#include "casement-qemu-img.h"
#include "casement-vm-settings.h"

#define MIB (G_GUINT64_CONSTANT (1) << 20)
#define GIB (G_GUINT64_CONSTANT (1) << 30)

/* What the disk may grow to here; qcow2 itself allows far more, but a
 * typo should not make a 1 PiB disk. */
#define MAX_DISK_GIB 16384

/* The share methods in the order of the method row's list. */
static const CasementShareMethod share_methods[] = {
  CASEMENT_SHARE_METHOD_AUTO,
  CASEMENT_SHARE_METHOD_VIRTIOFS,
  CASEMENT_SHARE_METHOD_SMB,
  CASEMENT_SHARE_METHOD_WEBDAV,
};

struct _CasementVmSettings
{
  AdwPreferencesWindow     parent_instance;

  /* Template widgets */
  GtkSpinButton           *cpus_spin;
  AdwActionRow            *cpus_row;
  AdwExpanderRow          *disk_row;
  GtkSpinButton           *disk_spin;
  AdwActionRow            *drivers_iso_row;
  GtkButton               *drivers_iso_clear_button;
  GtkEntry                *forward_guest_entry;
  GtkEntry                *forward_host_entry;
  GtkDropDown             *forward_protocol;
  AdwExpanderRow          *forwards_row;
  GtkButton               *grow_button;
  AdwPreferencesGroup     *hardware_group;
  AdwPreferencesGroup     *identity_group;
  AdwActionRow            *install_iso_row;
  GtkButton               *install_iso_clear_button;
  AdwPreferencesGroup     *media_group;
  AdwActionRow            *memory_row;
  GtkSpinButton           *memory_spin;
  AdwEntryRow             *name_row;
  AdwPreferencesGroup     *network_group;
  GtkSwitch               *network_switch;
  GtkImage                *os_icon;
  AdwActionRow            *os_row;
  GtkSwitch               *secure_boot_switch;
  AdwPreferencesGroup     *security_group;
  GtkLabel                *security_warning;
  GtkButton               *share_clear_button;
  AdwActionRow            *share_folder_row;
  AdwPreferencesGroup     *share_group;
  AdwComboRow             *share_method_row;
  AdwActionRow            *share_read_only_row;
  GtkSwitch               *share_read_only_switch;
  AdwPreferencesGroup     *status_group;
  GtkLabel                *status_label;
  GtkSpinner              *status_spinner;
  GtkSwitch               *tpm_switch;

  /* Owned references */
  CasementVm              *vm;
  CasementHost            *host;
  CasementVmConfig        *config;        /* what the dialog shows; saved when valid */
  GCancellable            *cancellable;
  GtkFileChooserNative    *chooser;
  AdwToast                *error_toast;
  GPtrArray               *forward_rows;
  char                    *error;
  char                    *load_error;

  CasementVmSettingsState  state;
  guint64                  disk_virtual_size;
  guint64                  growing_to;

  guint                    filling : 1;     /* widgets being set from the config: no saves */
  guint                    host_done : 1;   /* the probe finished (host may still be NULL) */
  guint                    disk_known : 1;
  guint                    saving : 1;
  guint                    save_again : 1;
  guint                    growing : 1;
};

G_DEFINE_FINAL_TYPE (CasementVmSettings, casement_vm_settings, ADW_TYPE_PREFERENCES_WINDOW)

G_DEFINE_ENUM_TYPE (CasementVmSettingsState, casement_vm_settings_state,
                    G_DEFINE_ENUM_VALUE (CASEMENT_VM_SETTINGS_STATE_LOADING, "loading"),
                    G_DEFINE_ENUM_VALUE (CASEMENT_VM_SETTINGS_STATE_EDITING, "editing"),
                    G_DEFINE_ENUM_VALUE (CASEMENT_VM_SETTINGS_STATE_SAVING, "saving"),
                    G_DEFINE_ENUM_VALUE (CASEMENT_VM_SETTINGS_STATE_GROWING, "growing"),
                    G_DEFINE_ENUM_VALUE (CASEMENT_VM_SETTINGS_STATE_LOCKED, "locked"),
                    G_DEFINE_ENUM_VALUE (CASEMENT_VM_SETTINGS_STATE_BROKEN, "broken"))

enum {
  PROP_0,
  PROP_VM,
  PROP_HOST,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void casement_vm_settings_fill        (CasementVmSettings *self);
static void casement_vm_settings_read_disk   (CasementVmSettings *self);

static gboolean
vm_is_stopped (CasementVm *vm)
{
  CasementVmState state = casement_vm_get_state (vm);

  return state == CASEMENT_VM_STATE_STOPPED || state == CASEMENT_VM_STATE_CRASHED;
}

static const char *
casement_vm_settings_get_name (CasementVmSettings *self)
{
  CasementVmConfig *config = self->config != NULL ? self->config : casement_vm_get_config (self->vm);

  return config != NULL ? casement_vm_config_get_name (config) : casement_vm_get_slug (self->vm);
}

/* ---- State ---------------------------------------------------------------- */

static void
casement_vm_settings_update_state (CasementVmSettings *self)
{
  CasementVmSettingsState state;
  g_autofree char *status = NULL;
  gboolean editable;

  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (self->load_error != NULL)
    state = CASEMENT_VM_SETTINGS_STATE_BROKEN;
  else if (self->config == NULL || !self->host_done)
    state = CASEMENT_VM_SETTINGS_STATE_LOADING;
  else if (self->growing)
    state = CASEMENT_VM_SETTINGS_STATE_GROWING;
  else if (self->saving)
    state = CASEMENT_VM_SETTINGS_STATE_SAVING;
  else if (!vm_is_stopped (self->vm))
    state = CASEMENT_VM_SETTINGS_STATE_LOCKED;
  else
    state = CASEMENT_VM_SETTINGS_STATE_EDITING;

  /* Editing goes on while a save is under way: the next one follows it. */
  editable = state == CASEMENT_VM_SETTINGS_STATE_EDITING ||
             (state == CASEMENT_VM_SETTINGS_STATE_SAVING && vm_is_stopped (self->vm));

  switch (state)
    {
    case CASEMENT_VM_SETTINGS_STATE_LOADING:
      status = g_strdup (_("Reading the settings…"));
      break;
    case CASEMENT_VM_SETTINGS_STATE_GROWING:
      status = g_strdup (_("Growing the disk…"));
      break;
    case CASEMENT_VM_SETTINGS_STATE_LOCKED:
      status = g_strdup_printf (_("“%s” is running. Shut it down to change its settings."),
                                casement_vm_settings_get_name (self));
      break;
    case CASEMENT_VM_SETTINGS_STATE_BROKEN:
      status = g_strdup_printf (_("The settings cannot be read, so nothing here can be changed: %s"),
                                self->load_error);
      break;
    case CASEMENT_VM_SETTINGS_STATE_EDITING:
    case CASEMENT_VM_SETTINGS_STATE_SAVING:
    default:
      break;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->status_group), status != NULL);
  gtk_label_set_text (self->status_label, status != NULL ? status : "");
  gtk_spinner_set_spinning (self->status_spinner,
                            state == CASEMENT_VM_SETTINGS_STATE_LOADING ||
                            state == CASEMENT_VM_SETTINGS_STATE_GROWING);
  gtk_widget_set_visible (GTK_WIDGET (self->status_spinner),
                          state == CASEMENT_VM_SETTINGS_STATE_LOADING ||
                          state == CASEMENT_VM_SETTINGS_STATE_GROWING);

  {
    GtkWidget *groups[] = {
      GTK_WIDGET (self->identity_group), GTK_WIDGET (self->hardware_group),
      GTK_WIDGET (self->security_group), GTK_WIDGET (self->share_group),
      GTK_WIDGET (self->media_group), GTK_WIDGET (self->network_group),
    };

    /* Unreadable settings have no values to show. */
    for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
      {
        gtk_widget_set_sensitive (groups[i], editable);
        gtk_widget_set_visible (groups[i], state != CASEMENT_VM_SETTINGS_STATE_BROKEN);
      }
  }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "settings.grow-disk",
                                 state == CASEMENT_VM_SETTINGS_STATE_EDITING && self->disk_known);

  if (self->state == state)
    return;

  g_debug ("%s: settings %s", casement_vm_get_slug (self->vm),
           g_enum_to_string (CASEMENT_TYPE_VM_SETTINGS_STATE, state));

  /* The reason shows on the first page; nothing elsewhere can change. */
  if (status != NULL)
    adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (self), "general");
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
casement_vm_settings_set_error (CasementVmSettings *self,
                                const char         *message)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (self->error_toast != NULL)
    adw_toast_dismiss (self->error_toast);
  g_clear_object (&self->error_toast);
  g_free (self->error);
  self->error = g_strdup (message);

  if (message != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Not saved: %s"), message);
      GtkWidget *label = gtk_label_new (text);

      /* The config's reasons are whole sentences: all of each must show. */
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 50);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      self->error_toast = adw_toast_new (text);
      adw_toast_set_custom_title (self->error_toast, label);
      adw_toast_set_timeout (self->error_toast, 0);
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), g_object_ref (self->error_toast));
    }
}

static void
casement_vm_settings_toast (CasementVmSettings *self,
                            const char         *message)
{
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (message));
}

/* ---- Saving ----------------------------------------------------------------- */

typedef struct
{
  CasementVmStore  *store;
  char             *slug;
  CasementVmConfig *config;
} SaveData;

static void
save_data_free (SaveData *data)
{
  g_clear_object (&data->store);
  g_free (data->slug);
  g_clear_object (&data->config);
  g_free (data);
}

static void
save_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  SaveData *data = task_data;
  const char *name = casement_vm_config_get_name (data->config);
  g_autofree char *owner = casement_vm_store_lookup (data->store, name);
  GError *error = NULL;

  /* The store finds VMs by name too: two of one name would be one too many. */
  if (owner != NULL && g_strcmp0 (owner, data->slug) != 0)
    {
      g_task_return_new_error (task, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_EXISTS,
                               _("Another virtual machine is called “%s”; choose another name"), name);
      return;
    }

  if (!casement_vm_store_save (data->store, data->slug, data->config, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void casement_vm_settings_save (CasementVmSettings *self);

static void
casement_vm_settings_vm_reloaded (GObject      *object,
                                  GAsyncResult *result,
                                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!casement_vm_attach_finish (CASEMENT_VM (object), result, &error))
    g_debug ("Cannot re-read %s: %s", casement_vm_get_slug (CASEMENT_VM (object)), error->message);
}

static void
casement_vm_settings_saved (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  CasementVmSettings *self = CASEMENT_VM_SETTINGS (object);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->saving = FALSE;

  if (error != NULL)
    {
      casement_vm_settings_set_error (self, error->message);
    }
  else
    {
      casement_vm_settings_set_error (self, NULL);
      /* The library, the VM's window and the tray show the VM's config:
       * reading vm.json again brings them the change. */
      casement_vm_attach_async (self->vm, NULL, casement_vm_settings_vm_reloaded, NULL);
    }

  casement_vm_settings_update_state (self);

  if (self->save_again)
    {
      self->save_again = FALSE;
      casement_vm_settings_save (self);
    }
}

/* Called after every change the user makes: the dialog's config is
 * checked as a whole and written when valid. When not, the dialog keeps
 * its values and says why; vm.json keeps the last good ones. */
static void
casement_vm_settings_save (CasementVmSettings *self)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  SaveData *data;

  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (self->filling || self->config == NULL || self->load_error != NULL)
    return;

  if (!vm_is_stopped (self->vm))
    {
      casement_vm_settings_set_error (self, _("the virtual machine is running"));
      return;
    }

  if (!casement_vm_config_validate (self->config, &error))
    {
      casement_vm_settings_set_error (self, error->message);
      return;
    }

  if (self->saving)
    {
      self->save_again = TRUE;
      return;
    }

  /* The worker gets a copy: the user may go on editing meanwhile. */
  json = casement_vm_config_to_json (self->config);
  data = g_new0 (SaveData, 1);
  data->store = g_object_ref (casement_vm_get_store (self->vm));
  data->slug = g_strdup (casement_vm_get_slug (self->vm));
  if (!(data->config = casement_vm_config_new_from_json (json, -1, &error)))
    {
      save_data_free (data);
      casement_vm_settings_set_error (self, error->message);
      return;
    }

  self->saving = TRUE;
  casement_vm_settings_update_state (self);

  task = g_task_new (self, self->cancellable, casement_vm_settings_saved, NULL);
  g_task_set_source_tag (task, casement_vm_settings_save);
  g_task_set_task_data (task, data, (GDestroyNotify) save_data_free);
  g_task_run_in_thread (task, save_thread);
}

/* ---- Loading ---------------------------------------------------------------- */

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  CasementVm *vm = task_data;
  CasementVmConfig *config;
  GError *error = NULL;

  if (!(config = casement_vm_store_load (casement_vm_get_store (vm), casement_vm_get_slug (vm), &error)))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, config, g_object_unref);
}

static void
casement_vm_settings_loaded (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  CasementVmSettings *self = CASEMENT_VM_SETTINGS (object);
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  if (!(config = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      self->load_error = g_strdup (error->message);
      casement_vm_settings_update_state (self);
      return;
    }

  self->config = g_steal_pointer (&config);
  casement_vm_settings_read_disk (self);
  casement_vm_settings_fill (self);
}

static void
casement_vm_settings_probed (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(CasementVmSettings) self = user_data;
  g_autoptr(GError) error = NULL;

  self->host = casement_host_probe_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* Without a host the bounds come from what GLib knows; the share
   * method is then picked when the VM starts. */
  if (error != NULL)
    g_debug ("Cannot probe the host: %s", error->message);

  self->host_done = TRUE;
  casement_vm_settings_fill (self);
}

/* ---- The disk ----------------------------------------------------------------- */

static GFile *
casement_vm_settings_dup_disk (CasementVmSettings *self)
{
  const char *path = casement_vm_config_get_disk_path (self->config);
  g_autofree char *vm_dir = NULL;
  g_autofree char *full = NULL;

  if (g_path_is_absolute (path))
    return g_file_new_for_path (path);

  vm_dir = casement_vm_dup_vm_dir (self->vm);
  full = g_build_filename (vm_dir, path, NULL);

  return g_file_new_for_path (full);
}

static void
casement_vm_settings_update_grow (CasementVmSettings *self)
{
  guint64 wanted;

  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  wanted = (guint64) gtk_spin_button_get_value_as_int (self->disk_spin) * GIB;
  gtk_widget_set_sensitive (GTK_WIDGET (self->grow_button),
                            self->disk_known && wanted > self->disk_virtual_size);
}

static void
casement_vm_settings_disk_info_cb (GObject      *object,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  g_autoptr(CasementVmSettings) self = user_data;
  g_auto(CasementQemuImgInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *size = NULL;
  g_autofree char *used = NULL;
  g_autofree char *subtitle = NULL;
  GtkAdjustment *adjustment;
  guint64 lower;

  if (!casement_qemu_img_info_finish (result, &info, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      self->disk_known = FALSE;
      subtitle = g_strdup_printf (_("Cannot read the disk: %s"), error->message);
      adw_expander_row_set_subtitle (self->disk_row, subtitle);
      casement_vm_settings_update_grow (self);
      casement_vm_settings_update_state (self);
      return;
    }

  self->disk_known = TRUE;
  self->disk_virtual_size = info.virtual_size;
  size = g_format_size_full (info.virtual_size, G_FORMAT_SIZE_IEC_UNITS);
  used = g_format_size_full (info.actual_size, G_FORMAT_SIZE_IEC_UNITS);
  /* Translators: the disk's size as the guest sees it, and the space it takes on the host. */
  subtitle = g_strdup_printf (_("%s, %s used on this computer"), size, used);
  adw_expander_row_set_subtitle (self->disk_row, subtitle);

  /* The smallest size offered is the first whole GiB not below today's. */
  lower = (info.virtual_size + GIB - 1) / GIB;
  lower = MAX (lower, 1);
  adjustment = gtk_spin_button_get_adjustment (self->disk_spin);
  gtk_adjustment_configure (adjustment, lower, lower, MAX (lower, MAX_DISK_GIB), 1, 16, 0);

  casement_vm_settings_update_grow (self);
  casement_vm_settings_update_state (self);
}

static void
casement_vm_settings_read_disk (CasementVmSettings *self)
{
  g_autoptr(GFile) disk = casement_vm_settings_dup_disk (self);

  casement_qemu_img_info_async (disk, self->cancellable,
                                casement_vm_settings_disk_info_cb, g_object_ref (self));
}

static void
casement_vm_settings_grown (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(CasementVmSettings) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!casement_qemu_img_resize_finish (result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->growing = FALSE;

  if (error != NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Could not grow the disk: %s"), error->message);
      AdwToast *toast = adw_toast_new (message);

      adw_toast_set_timeout (toast, 0);
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), toast);
    }
  else
    {
      g_autofree char *size = g_format_size_full (self->growing_to, G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *message = g_strdup_printf (_("The disk now holds %s"), size);

      casement_vm_settings_toast (self, message);

      /* A size of 0 stands for a disk the VM was given as it was: keep it so. */
      if (casement_vm_config_get_disk_size (self->config) != 0)
        {
          casement_vm_config_set_disk_size (self->config, self->growing_to);
          casement_vm_settings_save (self);
        }
    }

  casement_vm_settings_update_state (self);
  casement_vm_settings_read_disk (self);
}

static void
casement_vm_settings_grow_disk_action (GtkWidget  *widget,
                                       const char *action_name,
                                       GVariant   *param)
{
  CasementVmSettings *self = CASEMENT_VM_SETTINGS (widget);
  guint64 new_size = (guint64) gtk_spin_button_get_value_as_int (self->disk_spin) * GIB;
  g_autoptr(GFile) disk = NULL;

  /* Never shrink: qemu-img would refuse too, but say so before asking it. */
  if (self->state != CASEMENT_VM_SETTINGS_STATE_EDITING || !self->disk_known ||
      new_size <= self->disk_virtual_size)
    return;

  disk = casement_vm_settings_dup_disk (self);
  self->growing = TRUE;
  self->growing_to = new_size;
  casement_vm_settings_update_state (self);

  casement_qemu_img_resize_async (disk, new_size, self->cancellable,
                                  casement_vm_settings_grown, g_object_ref (self));
}

/* ---- Showing the config ------------------------------------------------------ */

static void
set_file_row (AdwActionRow *row,
              GtkButton    *clear_button,
              const char   *path)
{
  adw_action_row_set_subtitle (row, path != NULL ? path : _("None"));
  gtk_widget_set_visible (GTK_WIDGET (clear_button), path != NULL);
}

/* What the method row says: the reason for the automatic pick. */
static void
casement_vm_settings_update_share_method (CasementVmSettings *self)
{
  CasementShareMethod method = casement_vm_config_get_share_method (self->config);
  g_autofree char *subtitle = NULL;

  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  switch (method)
    {
    case CASEMENT_SHARE_METHOD_NONE:
      subtitle = g_strdup (_("Choose a folder first"));
      break;

    case CASEMENT_SHARE_METHOD_AUTO:
      if (self->host != NULL)
        {
          g_autofree char *reason = NULL;

          casement_qemu_command_resolve_share (self->config, self->host, &reason);
          subtitle = g_strdup_printf (_("Shared through %s."), reason);
        }
      else
        {
          subtitle = g_strdup (_("Picked when the virtual machine starts"));
        }
      break;

    case CASEMENT_SHARE_METHOD_VIRTIOFS:
      subtitle = g_strdup (_("Fastest; the guest needs the VirtIO-FS service (and WinFsp on Windows)"));
      break;

    case CASEMENT_SHARE_METHOD_SMB:
      subtitle = g_strdup (_("Seen in the guest as \\\\10.0.2.4\\qemu; needs smbd here and the VM’s network"));
      break;

    case CASEMENT_SHARE_METHOD_WEBDAV:
      subtitle = g_strdup (_("Through the display connection; the guest needs spice-webdavd"));
      break;

    default:
      g_assert_not_reached ();
    }

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->share_method_row), subtitle);
}

static void
casement_vm_settings_update_share (CasementVmSettings *self)
{
  const char *folder = casement_vm_config_get_share_folder (self->config);
  CasementShareMethod method = casement_vm_config_get_share_method (self->config);
  guint selected = 0;

  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  set_file_row (self->share_folder_row, self->share_clear_button, folder);
  gtk_widget_set_sensitive (GTK_WIDGET (self->share_method_row), folder != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->share_read_only_row), folder != NULL);

  /* Without a folder the row is off, and shows what a new one starts with. */
  for (guint i = 0; i < G_N_ELEMENTS (share_methods); i++)
    if (share_methods[i] == method)
      selected = i;
  if (adw_combo_row_get_selected (self->share_method_row) != selected)
    adw_combo_row_set_selected (self->share_method_row, selected);

  gtk_switch_set_active (self->share_read_only_switch, casement_vm_config_get_share_read_only (self->config));
  casement_vm_settings_update_share_method (self);
}

static void
casement_vm_settings_update_security (CasementVmSettings *self)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  gtk_switch_set_active (self->tpm_switch, casement_vm_config_get_tpm (self->config));
  gtk_switch_set_active (self->secure_boot_switch, casement_vm_config_get_secure_boot (self->config));
  gtk_widget_set_visible (GTK_WIDGET (self->security_warning),
                          g_strcmp0 (casement_vm_config_get_os_id (self->config), "win11") == 0 &&
                          (!casement_vm_config_get_tpm (self->config) ||
                           !casement_vm_config_get_secure_boot (self->config)));
}

static char *
describe_forward (const char *forward,
                  char      **subtitle)
{
  g_auto(GStrv) parts = g_strsplit (forward, ":", 3);
  g_autofree char *protocol = NULL;

  if (g_strv_length (parts) != 3)
    {
      *subtitle = NULL;
      return g_strdup (forward);
    }

  protocol = g_ascii_strup (parts[0], -1);

  /* Translators: how the host port reaches the guest's port. */
  *subtitle = g_strdup_printf (_("Port %s on this computer reaches port %s in the guest"), parts[1], parts[2]);
  /* Translators: a port forward: protocol, host port → guest port */
  return g_strdup_printf (_("%s %s → %s"), protocol, parts[1], parts[2]);
}

static void
casement_vm_settings_update_forwards (CasementVmSettings *self)
{
  const char * const *forwards = casement_vm_config_get_port_forwards (self->config);
  gboolean network = casement_vm_config_get_network (self->config) != CASEMENT_NETWORK_NONE;
  guint n = g_strv_length ((char **) forwards);
  g_autofree char *subtitle = NULL;

  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  gtk_switch_set_active (self->network_switch, network);

  for (guint i = 0; i < self->forward_rows->len; i++)
    adw_expander_row_remove (self->forwards_row, g_ptr_array_index (self->forward_rows, i));
  g_ptr_array_set_size (self->forward_rows, 0);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *row_subtitle = NULL;
      g_autofree char *title = describe_forward (forwards[i], &row_subtitle);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("list-remove-symbolic");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), row_subtitle);
      gtk_widget_set_tooltip_text (remove, _("Remove the Port Forward"));
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (remove), "settings.remove-forward");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (remove), "s", forwards[i]);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      adw_expander_row_add_row (self->forwards_row, row);
      g_ptr_array_add (self->forward_rows, row);
    }

  if (!network)
    subtitle = g_strdup (_("They need network access"));
  else if (n == 0)
    subtitle = g_strdup (_("None: the guest is reached only from inside"));
  else
    subtitle = g_strdup_printf (ngettext ("%u port reachable from this computer",
                                          "%u ports reachable from this computer", n), n);
  adw_expander_row_set_subtitle (self->forwards_row, subtitle);
}

/* Puts the config into the widgets, once both it and the host are known. */
static void
casement_vm_settings_fill (CasementVmSettings *self)
{
  CasementVmConfig *config = self->config;
  GtkAdjustment *adjustment;
  g_autofree char *title = NULL;
  guint threads;
  guint64 memory_mib;

  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  casement_vm_settings_update_state (self);
  if (self->state != CASEMENT_VM_SETTINGS_STATE_LOCKED &&
      self->state != CASEMENT_VM_SETTINGS_STATE_EDITING)
    return;

  self->filling = TRUE;

  title = g_strdup_printf (_("%s — Settings"), casement_vm_config_get_name (config));
  gtk_window_set_title (GTK_WINDOW (self), title);
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), casement_vm_config_get_name (config));

  if (casement_vm_config_is_windows (config))
    {
      adw_action_row_set_subtitle (self->os_row, casement_media_get_os_name (casement_vm_config_get_os_id (config)));
      gtk_image_set_from_icon_name (self->os_icon, "computer-symbolic");
    }
  else
    {
      adw_action_row_set_subtitle (self->os_row, _("Linux"));
      gtk_image_set_from_icon_name (self->os_icon, "utilities-terminal-symbolic");
    }

  /* Never below what the VM has today, which may come from a bigger host. */
  threads = self->host != NULL ? casement_host_get_cpu_threads (self->host) : g_get_num_processors ();
  adjustment = gtk_spin_button_get_adjustment (self->cpus_spin);
  gtk_adjustment_set_upper (adjustment, MAX (threads, casement_vm_config_get_cpus (config)));
  gtk_spin_button_set_value (self->cpus_spin, casement_vm_config_get_cpus (config));
  {
    g_autofree char *subtitle = g_strdup_printf (ngettext ("This computer has %u thread",
                                                           "This computer has %u threads", threads),
                                                 threads);
    adw_action_row_set_subtitle (self->cpus_row, subtitle);
  }

  memory_mib = casement_vm_config_get_memory_mib (config);
  adjustment = gtk_spin_button_get_adjustment (self->memory_spin);
  if (self->host != NULL)
    {
      g_autofree char *host_ram = g_format_size_full (casement_host_get_memory_mib (self->host) * MIB,
                                                      G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *subtitle = g_strdup_printf (_("This computer has %s"), host_ram);

      gtk_adjustment_set_upper (adjustment, MAX (casement_host_get_memory_mib (self->host), memory_mib));
      adw_action_row_set_subtitle (self->memory_row, subtitle);
    }
  else
    {
      gtk_adjustment_set_upper (adjustment, MAX (memory_mib, 1024 * 1024));
    }
  gtk_adjustment_set_lower (adjustment, MIN (memory_mib, 256));
  gtk_spin_button_set_value (self->memory_spin, memory_mib);

  casement_vm_settings_update_security (self);
  casement_vm_settings_update_share (self);
  set_file_row (self->install_iso_row, self->install_iso_clear_button,
                casement_vm_config_get_install_iso (config));
  set_file_row (self->drivers_iso_row, self->drivers_iso_clear_button,
                casement_vm_config_get_drivers_iso (config));
  casement_vm_settings_update_forwards (self);

  self->filling = FALSE;
}

/* ---- Changes ----------------------------------------------------------------- */

static gboolean
casement_vm_settings_can_change (CasementVmSettings *self)
{
  return !self->filling && self->config != NULL;
}

static void
casement_vm_settings_name_applied (CasementVmSettings *self)
{
  g_autofree char *name = NULL;

  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (!casement_vm_settings_can_change (self))
    return;

  name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  casement_vm_config_set_name (self->config, name);
  casement_vm_settings_save (self);
}

static void
casement_vm_settings_cpus_changed (CasementVmSettings *self)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (!casement_vm_settings_can_change (self))
    return;

  casement_vm_config_set_cpus (self->config, gtk_spin_button_get_value_as_int (self->cpus_spin));
  casement_vm_settings_save (self);
}

static void
casement_vm_settings_memory_changed (CasementVmSettings *self)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (!casement_vm_settings_can_change (self))
    return;

  casement_vm_config_set_memory_mib (self->config, gtk_spin_button_get_value_as_int (self->memory_spin));
  casement_vm_settings_save (self);
}

static void
casement_vm_settings_tpm_changed (CasementVmSettings *self)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (!casement_vm_settings_can_change (self))
    return;

  casement_vm_config_set_tpm (self->config, gtk_switch_get_active (self->tpm_switch));
  casement_vm_settings_update_security (self);
  casement_vm_settings_save (self);
}

static void
casement_vm_settings_secure_boot_changed (CasementVmSettings *self)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (!casement_vm_settings_can_change (self))
    return;

  casement_vm_config_set_secure_boot (self->config, gtk_switch_get_active (self->secure_boot_switch));
  casement_vm_settings_update_security (self);
  casement_vm_settings_save (self);
}

static void
casement_vm_settings_share_method_changed (CasementVmSettings *self)
{
  guint selected;

  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  selected = adw_combo_row_get_selected (self->share_method_row);
  if (!casement_vm_settings_can_change (self) ||
      casement_vm_config_get_share_folder (self->config) == NULL ||
      selected >= G_N_ELEMENTS (share_methods))
    return;

  casement_vm_config_set_share_method (self->config, share_methods[selected]);
  casement_vm_settings_update_share_method (self);
  casement_vm_settings_save (self);
}

static void
casement_vm_settings_share_read_only_changed (CasementVmSettings *self)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (!casement_vm_settings_can_change (self))
    return;

  casement_vm_config_set_share_read_only (self->config, gtk_switch_get_active (self->share_read_only_switch));
  /* The automatic method depends on it (SMB cannot share read-only). */
  casement_vm_settings_update_share_method (self);
  casement_vm_settings_save (self);
}

static void
casement_vm_settings_network_changed (CasementVmSettings *self)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (!casement_vm_settings_can_change (self))
    return;

  casement_vm_config_set_network (self->config,
                                  gtk_switch_get_active (self->network_switch) ? CASEMENT_NETWORK_USER
                                                                               : CASEMENT_NETWORK_NONE);
  self->filling = TRUE;
  casement_vm_settings_update_forwards (self);
  self->filling = FALSE;
  /* The automatic method depends on it (SMB needs the network). */
  casement_vm_settings_update_share_method (self);
  casement_vm_settings_save (self);
}

/* Files: the shared folder and the two discs. */

static void
casement_vm_settings_set_file (CasementVmSettings *self,
                               const char         *kind,
                               const char         *path)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (g_str_equal (kind, "share"))
    {
      CasementShareMethod method = casement_vm_config_get_share_method (self->config);

      casement_vm_config_set_share_folder (self->config, path);
      if (path == NULL)
        casement_vm_config_set_share_method (self->config, CASEMENT_SHARE_METHOD_NONE);
      else if (method == CASEMENT_SHARE_METHOD_NONE)
        casement_vm_config_set_share_method (self->config, CASEMENT_SHARE_METHOD_AUTO);
    }
  else if (g_str_equal (kind, "install-iso"))
    {
      casement_vm_config_set_install_iso (self->config, path);
    }
  else if (g_str_equal (kind, "drivers-iso"))
    {
      casement_vm_config_set_drivers_iso (self->config, path);
    }
  else
    {
      g_return_if_reached ();
    }

  self->filling = TRUE;
  casement_vm_settings_update_share (self);
  set_file_row (self->install_iso_row, self->install_iso_clear_button,
                casement_vm_config_get_install_iso (self->config));
  set_file_row (self->drivers_iso_row, self->drivers_iso_clear_button,
                casement_vm_config_get_drivers_iso (self->config));
  self->filling = FALSE;

  casement_vm_settings_save (self);
}

static void
casement_vm_settings_chooser_response (CasementVmSettings *self,
                                       int                 response,
                                       GtkNativeDialog    *chooser)
{
  const char *kind = g_object_get_data (G_OBJECT (chooser), "kind");

  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  if (response == GTK_RESPONSE_ACCEPT && casement_vm_settings_can_change (self))
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      /* QEMU opens files by path: a location without one cannot be used. */
      if (path != NULL)
        casement_vm_settings_set_file (self, kind, path);
      else
        casement_vm_settings_toast (self, _("Choose a file or folder on this computer"));
    }

  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->chooser);
}

static void
casement_vm_settings_choose_file_action (GtkWidget  *widget,
                                         const char *action_name,
                                         GVariant   *param)
{
  CasementVmSettings *self = CASEMENT_VM_SETTINGS (widget);
  const char *kind = g_variant_get_string (param, NULL);
  gboolean folder = g_str_equal (kind, "share");
  const char *current;

  if (!casement_vm_settings_can_change (self) || self->chooser != NULL)
    return;

  if (folder)
    current = casement_vm_config_get_share_folder (self->config);
  else if (g_str_equal (kind, "install-iso"))
    current = casement_vm_config_get_install_iso (self->config);
  else
    current = casement_vm_config_get_drivers_iso (self->config);

  self->chooser = gtk_file_chooser_native_new (folder ? _("Folder to Share") : _("Disc Image"),
                                               GTK_WINDOW (self),
                                               folder ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                                      : GTK_FILE_CHOOSER_ACTION_OPEN,
                                               folder ? _("_Share") : _("_Choose"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_object_set_data_full (G_OBJECT (self->chooser), "kind", g_strdup (kind), g_free);

  if (!folder)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();

      gtk_file_filter_set_name (filter, _("Disc images"));
      gtk_file_filter_add_suffix (filter, "iso");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
      g_object_unref (filter);
    }

  if (current != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (current);
      g_autoptr(GFile) parent = g_file_get_parent (file);

      if (folder)
        gtk_file_chooser_set_file (GTK_FILE_CHOOSER (self->chooser), file, NULL);
      else if (parent != NULL)
        gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), parent, NULL);
    }

  g_signal_connect_object (self->chooser, "response",
                           G_CALLBACK (casement_vm_settings_chooser_response), self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
casement_vm_settings_clear_file_action (GtkWidget  *widget,
                                        const char *action_name,
                                        GVariant   *param)
{
  CasementVmSettings *self = CASEMENT_VM_SETTINGS (widget);

  if (casement_vm_settings_can_change (self))
    casement_vm_settings_set_file (self, g_variant_get_string (param, NULL), NULL);
}

/* Port forwards */

static void
casement_vm_settings_set_forwards (CasementVmSettings *self,
                                   GStrv               forwards)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  casement_vm_config_set_port_forwards (self->config, (const char * const *) forwards);
  self->filling = TRUE;
  casement_vm_settings_update_forwards (self);
  self->filling = FALSE;
  casement_vm_settings_save (self);
}

static gboolean
read_port (GtkEntry *entry,
           guint64  *port)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));

  if (g_ascii_string_to_unsigned (text, 10, 1, 65535, port, NULL))
    return TRUE;

  gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
  return FALSE;
}

static void
casement_vm_settings_add_forward_action (GtkWidget  *widget,
                                         const char *action_name,
                                         GVariant   *param)
{
  CasementVmSettings *self = CASEMENT_VM_SETTINGS (widget);
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) forwards = NULL;
  g_autofree char *forward = NULL;
  guint64 host_port, guest_port;
  gboolean ok;

  if (!casement_vm_settings_can_change (self))
    return;

  ok = read_port (self->forward_host_entry, &host_port);
  ok = read_port (self->forward_guest_entry, &guest_port) && ok;
  if (!ok)
    {
      casement_vm_settings_toast (self, _("Ports are numbers from 1 to 65535"));
      return;
    }

  forward = g_strdup_printf ("%s:%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                             gtk_drop_down_get_selected (self->forward_protocol) == 1 ? "udp" : "tcp",
                             host_port, guest_port);
  builder = g_strv_builder_new ();
  g_strv_builder_addv (builder, (const char **) casement_vm_config_get_port_forwards (self->config));
  g_strv_builder_add (builder, forward);
  forwards = g_strv_builder_end (builder);

  gtk_editable_set_text (GTK_EDITABLE (self->forward_host_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->forward_guest_entry), "");

  /* The config's own checks (one forward per host port, …) run in the save. */
  casement_vm_settings_set_forwards (self, forwards);
}

static void
casement_vm_settings_remove_forward_action (GtkWidget  *widget,
                                            const char *action_name,
                                            GVariant   *param)
{
  CasementVmSettings *self = CASEMENT_VM_SETTINGS (widget);
  const char *gone = g_variant_get_string (param, NULL);
  const char * const *forwards;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) kept = NULL;
  gboolean removed = FALSE;

  if (!casement_vm_settings_can_change (self))
    return;

  forwards = casement_vm_config_get_port_forwards (self->config);
  builder = g_strv_builder_new ();
  for (guint i = 0; forwards[i] != NULL; i++)
    {
      /* One of them, should the list hold the same forward twice. */
      if (!removed && g_str_equal (forwards[i], gone))
        removed = TRUE;
      else
        g_strv_builder_add (builder, forwards[i]);
    }
  kept = g_strv_builder_end (builder);

  casement_vm_settings_set_forwards (self, kept);
}

static void
casement_vm_settings_forward_edited (CasementVmSettings *self,
                                     GtkEntry           *entry)
{
  gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
}

static void
casement_vm_settings_forward_activate (CasementVmSettings *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "settings.add-forward", NULL);
}

/* ---- Life cycle ------------------------------------------------------------------ */

static void
casement_vm_settings_vm_state_changed (CasementVmSettings *self)
{
  g_assert (CASEMENT_IS_VM_SETTINGS (self));

  casement_vm_settings_update_state (self);
}

static void
casement_vm_settings_constructed (GObject *object)
{
  CasementVmSettings *self = (CasementVmSettings *)object;
  g_autoptr(GTask) task = NULL;
  g_autofree char *title = NULL;

  G_OBJECT_CLASS (casement_vm_settings_parent_class)->constructed (object);

  title = g_strdup_printf (_("%s — Settings"), casement_vm_settings_get_name (self));
  gtk_window_set_title (GTK_WINDOW (self), title);

  g_signal_connect_object (self->vm, "notify::state",
                           G_CALLBACK (casement_vm_settings_vm_state_changed), self, G_CONNECT_SWAPPED);

  if (self->host != NULL)
    self->host_done = TRUE;
  else
    casement_host_probe_async (self->cancellable, casement_vm_settings_probed, g_object_ref (self));

  task = g_task_new (self, self->cancellable, casement_vm_settings_loaded, NULL);
  g_task_set_source_tag (task, casement_vm_settings_constructed);
  g_task_set_task_data (task, g_object_ref (self->vm), g_object_unref);
  g_task_run_in_thread (task, load_thread);

  casement_vm_settings_update_state (self);
}

static void
casement_vm_settings_dispose (GObject *object)
{
  CasementVmSettings *self = (CasementVmSettings *)object;

  g_cancellable_cancel (self->cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->error_toast);
  gtk_widget_dispose_template (GTK_WIDGET (self), CASEMENT_TYPE_VM_SETTINGS);

  G_OBJECT_CLASS (casement_vm_settings_parent_class)->dispose (object);
}

static void
casement_vm_settings_finalize (GObject *object)
{
  CasementVmSettings *self = (CasementVmSettings *)object;

  g_clear_object (&self->cancellable);
  g_clear_object (&self->vm);
  g_clear_object (&self->host);
  g_clear_object (&self->config);
  g_clear_pointer (&self->forward_rows, g_ptr_array_unref);
  g_free (self->error);
  g_free (self->load_error);

  G_OBJECT_CLASS (casement_vm_settings_parent_class)->finalize (object);
}

static void
casement_vm_settings_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  CasementVmSettings *self = CASEMENT_VM_SETTINGS (object);

  switch (prop_id)
    {
    case PROP_VM:
      g_value_set_object (value, self->vm);
      break;

    case PROP_HOST:
      g_value_set_object (value, self->host);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_settings_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  CasementVmSettings *self = CASEMENT_VM_SETTINGS (object);

  switch (prop_id)
    {
    case PROP_VM:
      self->vm = g_value_dup_object (value);
      break;

    case PROP_HOST:
      self->host = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_settings_class_init (CasementVmSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = casement_vm_settings_constructed;
  object_class->dispose = casement_vm_settings_dispose;
  object_class->finalize = casement_vm_settings_finalize;
  object_class->get_property = casement_vm_settings_get_property;
  object_class->set_property = casement_vm_settings_set_property;

  properties[PROP_VM] =
    g_param_spec_object ("vm", NULL, NULL,
                         CASEMENT_TYPE_VM,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HOST] =
    g_param_spec_object ("host", NULL, NULL,
                         CASEMENT_TYPE_HOST,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       CASEMENT_TYPE_VM_SETTINGS_STATE,
                       CASEMENT_VM_SETTINGS_STATE_LOADING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/casement/Casement/ui/casement-vm-settings.ui");
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, cpus_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, cpus_spin);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, disk_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, disk_spin);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, drivers_iso_clear_button);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, drivers_iso_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, forward_guest_entry);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, forward_host_entry);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, forward_protocol);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, forwards_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, grow_button);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, hardware_group);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, identity_group);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, install_iso_clear_button);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, install_iso_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, media_group);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, memory_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, memory_spin);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, name_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, network_group);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, network_switch);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, os_icon);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, os_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, secure_boot_switch);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, security_group);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, security_warning);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, share_clear_button);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, share_folder_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, share_group);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, share_method_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, share_read_only_row);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, share_read_only_switch);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, status_group);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, status_label);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, status_spinner);
  gtk_widget_class_bind_template_child (widget_class, CasementVmSettings, tpm_switch);

  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_cpus_changed);
  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_forward_activate);
  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_forward_edited);
  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_memory_changed);
  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_name_applied);
  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_network_changed);
  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_secure_boot_changed);
  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_share_method_changed);
  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_share_read_only_changed);
  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_tpm_changed);
  gtk_widget_class_bind_template_callback (widget_class, casement_vm_settings_update_grow);

  gtk_widget_class_install_action (widget_class, "settings.grow-disk", NULL,
                                   casement_vm_settings_grow_disk_action);
  gtk_widget_class_install_action (widget_class, "settings.choose-file", "s",
                                   casement_vm_settings_choose_file_action);
  gtk_widget_class_install_action (widget_class, "settings.clear-file", "s",
                                   casement_vm_settings_clear_file_action);
  gtk_widget_class_install_action (widget_class, "settings.add-forward", NULL,
                                   casement_vm_settings_add_forward_action);
  gtk_widget_class_install_action (widget_class, "settings.remove-forward", "s",
                                   casement_vm_settings_remove_forward_action);
}

static void
casement_vm_settings_init (CasementVmSettings *self)
{
  self->cancellable = g_cancellable_new ();
  self->forward_rows = g_ptr_array_new ();
  self->state = CASEMENT_VM_SETTINGS_STATE_LOADING;
  /* The template's signal handlers run while it is built: nothing to save yet. */
  self->filling = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
  self->filling = FALSE;
}

CasementVmSettings *
casement_vm_settings_new (GtkWindow    *parent,
                          CasementVm   *vm,
                          CasementHost *host)
{
  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (CASEMENT_IS_VM (vm), NULL);
  g_return_val_if_fail (!host || CASEMENT_IS_HOST (host), NULL);

  return g_object_new (CASEMENT_TYPE_VM_SETTINGS,
                       "transient-for", parent,
                       "vm", vm,
                       "host", host,
                       NULL);
}

CasementVmSettings *
casement_vm_settings_show (GtkWindow    *parent,
                           CasementVm   *vm,
                           CasementHost *host)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  CasementVmSettings *settings = NULL;

  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (CASEMENT_IS_VM (vm), NULL);
  g_return_val_if_fail (!host || CASEMENT_IS_HOST (host), NULL);

  /* Two windows editing one vm.json would overwrite each other's changes. */
  for (guint i = 0; settings == NULL && i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (CASEMENT_IS_VM_SETTINGS (window) && CASEMENT_VM_SETTINGS (window)->vm == vm)
        settings = CASEMENT_VM_SETTINGS (window);
    }

  if (settings == NULL)
    settings = casement_vm_settings_new (parent, vm, host);

  gtk_window_present (GTK_WINDOW (settings));

  return settings;
}

CasementVm *
casement_vm_settings_get_vm (CasementVmSettings *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM_SETTINGS (self), NULL);

  return self->vm;
}

CasementVmSettingsState
casement_vm_settings_get_state (CasementVmSettings *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM_SETTINGS (self), CASEMENT_VM_SETTINGS_STATE_LOADING);

  return self->state;
}

const char *
casement_vm_settings_get_error (CasementVmSettings *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM_SETTINGS (self), NULL);

  return self->error;
}
