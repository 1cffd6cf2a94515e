/* casement-preferences.c
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

#define G_LOG_DOMAIN "casement-preferences"

#include "config.h"

#include <glib/gi18n.h>

#include "casement-preferences.h"
#include "casement-util.h"

struct _CasementPreferences
{
  AdwPreferencesWindow  parent_instance;

  /* Template widgets */
  AdwPreferencesGroup  *behaviour_group;
  AdwComboRow          *close_action_row;
  AdwActionRow         *folder_row;
  GtkButton            *folder_reset_button;
  AdwPreferencesGroup  *note_group;
  GtkButton            *shortcut_reset_button;
  GtkShortcutLabel     *shortcut_label;
  GtkSpinButton        *timeout_spin;
  GtkSwitch            *tray_switch;
  AdwPreferencesGroup  *vms_group;

  /* Owned references */
  GSettings            *settings;
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (CasementPreferences, casement_preferences, ADW_TYPE_PREFERENCES_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The "close-action" choices, in the order of the combo row's items. */
static const char * const close_actions[] = { "ask", "keep-running", "shut-down" };

/* Whether @key holds something other than its default. */
static gboolean
casement_preferences_is_changed (CasementPreferences *self,
                                 const char          *key)
{
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) fallback = NULL;

  g_assert (CASEMENT_IS_PREFERENCES (self));
  g_assert (self->settings != NULL);

  value = g_settings_get_value (self->settings, key);
  fallback = g_settings_get_default_value (self->settings, key);

  return !g_variant_equal (value, fallback);
}

static void
casement_preferences_update_folder (CasementPreferences *self)
{
  g_autofree char *folder = NULL;

  g_assert (CASEMENT_IS_PREFERENCES (self));

  if (self->settings != NULL)
    folder = g_settings_get_string (self->settings, "vm-folder");

  if (folder == NULL || folder[0] == '\0')
    {
      g_autofree char *fallback = casement_util_dup_vms_dir ();
      g_autofree char *subtitle = g_strdup_printf (_("%s (default)"), fallback);

      adw_action_row_set_subtitle (self->folder_row, subtitle);
      gtk_widget_set_visible (GTK_WIDGET (self->folder_reset_button), FALSE);
    }
  else
    {
      adw_action_row_set_subtitle (self->folder_row, folder);
      gtk_widget_set_visible (GTK_WIDGET (self->folder_reset_button), TRUE);
    }
}

static void
casement_preferences_update_shortcut (CasementPreferences *self)
{
  g_assert (CASEMENT_IS_PREFERENCES (self));

  gtk_widget_set_visible (GTK_WIDGET (self->shortcut_reset_button),
                          self->settings != NULL &&
                          casement_preferences_is_changed (self, "release-shortcut"));
}

static void
casement_preferences_settings_changed (CasementPreferences *self,
                                       const char          *key,
                                       GSettings           *settings)
{
  g_assert (CASEMENT_IS_PREFERENCES (self));

  if (g_strcmp0 (key, "vm-folder") == 0)
    casement_preferences_update_folder (self);
  else if (g_strcmp0 (key, "release-shortcut") == 0)
    casement_preferences_update_shortcut (self);
}

/* ---- The folder for new VMs --------------------------------------------- */

static void
casement_preferences_chooser_response (CasementPreferences *self,
                                       int                  response,
                                       GtkNativeDialog     *chooser)
{
  g_assert (CASEMENT_IS_PREFERENCES (self));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      /* A folder without a local path (a network location) cannot hold
       * the QEMU sockets and disks Casement needs. */
      if (path != NULL)
        g_settings_set_string (self->settings, "vm-folder", path);
      else
        adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                          adw_toast_new (_("Choose a folder on this computer")));
    }

  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->chooser);
}

static void
casement_preferences_choose_folder_action (GtkWidget  *widget,
                                           const char *action_name,
                                           GVariant   *param)
{
  CasementPreferences *self = CASEMENT_PREFERENCES (widget);
  g_autofree char *folder = NULL;

  if (self->settings == NULL)
    return;

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
      return;
    }

  self->chooser = gtk_file_chooser_native_new (_("Folder for Virtual Machines"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                               _("_Select"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);

  folder = g_settings_get_string (self->settings, "vm-folder");
  if (folder[0] != '\0' && g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GFile) file = g_file_new_for_path (folder);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), file, NULL);
    }

  g_signal_connect_object (self->chooser, "response",
                           G_CALLBACK (casement_preferences_chooser_response), self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
casement_preferences_reset_folder_action (GtkWidget  *widget,
                                          const char *action_name,
                                          GVariant   *param)
{
  CasementPreferences *self = CASEMENT_PREFERENCES (widget);

  if (self->settings != NULL)
    g_settings_reset (self->settings, "vm-folder");
}

/* ---- The release-keyboard shortcut -------------------------------------- */

static gboolean
casement_preferences_capture_key (GtkEventControllerKey *controller,
                                  guint                  keyval,
                                  guint                  keycode,
                                  GdkModifierType        state,
                                  CasementPreferences   *self)
{
  GtkWidget *dialog = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (controller));
  GdkEvent *event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller));
  GdkModifierType mods = state & gtk_accelerator_get_default_mod_mask ();
  guint key = gdk_keyval_to_lower (keyval);
  g_autofree char *accelerator = NULL;

  g_assert (CASEMENT_IS_PREFERENCES (self));

  if (mods == 0 && key == GDK_KEY_Escape)
    return FALSE;

  if (event != NULL && gdk_key_event_is_modifier (event))
    return TRUE;

  /* Plain keys and Shift combinations are what the guest gets typed: a
   * shortcut made of them would take them away from it. */
  if ((mods & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK)) == 0 ||
      !gtk_accelerator_valid (key, mods))
    {
      adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                                   _("That key alone belongs to the guest. Hold Ctrl, Alt or Super "
                                     "and press another key."));
      return TRUE;
    }

  accelerator = gtk_accelerator_name (key, mods);
  g_debug ("New release shortcut %s", accelerator);
  g_settings_set_string (self->settings, "release-shortcut", accelerator);
  gtk_window_destroy (GTK_WINDOW (dialog));

  return TRUE;
}

static void
casement_preferences_change_shortcut_action (GtkWidget  *widget,
                                             const char *action_name,
                                             GVariant   *param)
{
  CasementPreferences *self = CASEMENT_PREFERENCES (widget);
  GtkEventController *controller;
  GtkWidget *dialog;

  if (self->settings == NULL)
    return;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Press the New Shortcut"),
                                   _("It releases the keyboard from the guest. Hold Ctrl, Alt or "
                                     "Super and press another key; Escape cancels."));
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"));
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  /* Before the dialog's own bindings: Enter and Space are shortcut keys too. */
  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (casement_preferences_capture_key), self, 0);
  gtk_widget_add_controller (dialog, controller);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
casement_preferences_reset_shortcut_action (GtkWidget  *widget,
                                            const char *action_name,
                                            GVariant   *param)
{
  CasementPreferences *self = CASEMENT_PREFERENCES (widget);

  if (self->settings != NULL)
    g_settings_reset (self->settings, "release-shortcut");
}

/* ---- What closing a running VM does ------------------------------------- */

static gboolean
close_action_to_selected (GValue   *value,
                          GVariant *variant,
                          gpointer  user_data)
{
  const char *action = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (close_actions); i++)
    {
      if (g_str_equal (action, close_actions[i]))
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }

  return FALSE;
}

static GVariant *
selected_to_close_action (const GValue       *value,
                          const GVariantType *expected_type,
                          gpointer            user_data)
{
  guint selected = g_value_get_uint (value);

  if (selected >= G_N_ELEMENTS (close_actions))
    return NULL;

  return g_variant_new_string (close_actions[selected]);
}

/* ---- Life cycle ---------------------------------------------------------- */

static void
casement_preferences_constructed (GObject *object)
{
  CasementPreferences *self = (CasementPreferences *)object;

  G_OBJECT_CLASS (casement_preferences_parent_class)->constructed (object);

  if (self->settings == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->note_group), TRUE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->vms_group), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->behaviour_group), FALSE);
      casement_preferences_update_folder (self);
      casement_preferences_update_shortcut (self);
      return;
    }

  g_settings_bind (self->settings, "shutdown-timeout", self->timeout_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "show-tray", self->tray_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "release-shortcut", self->shortcut_label, "accelerator", G_SETTINGS_BIND_GET);
  g_settings_bind_with_mapping (self->settings, "close-action", self->close_action_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, close_action_to_selected, selected_to_close_action,
                                NULL, NULL);
  g_signal_connect_object (self->settings, "changed",
                           G_CALLBACK (casement_preferences_settings_changed), self, G_CONNECT_SWAPPED);
  casement_preferences_update_folder (self);
  casement_preferences_update_shortcut (self);
}

static void
casement_preferences_dispose (GObject *object)
{
  CasementPreferences *self = (CasementPreferences *)object;

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), CASEMENT_TYPE_PREFERENCES);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (casement_preferences_parent_class)->dispose (object);
}

static void
casement_preferences_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  CasementPreferences *self = CASEMENT_PREFERENCES (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_preferences_class_init (CasementPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = casement_preferences_constructed;
  object_class->dispose = casement_preferences_dispose;
  object_class->set_property = casement_preferences_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/casement/Casement/ui/casement-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, CasementPreferences, behaviour_group);
  gtk_widget_class_bind_template_child (widget_class, CasementPreferences, close_action_row);
  gtk_widget_class_bind_template_child (widget_class, CasementPreferences, folder_reset_button);
  gtk_widget_class_bind_template_child (widget_class, CasementPreferences, folder_row);
  gtk_widget_class_bind_template_child (widget_class, CasementPreferences, note_group);
  gtk_widget_class_bind_template_child (widget_class, CasementPreferences, shortcut_label);
  gtk_widget_class_bind_template_child (widget_class, CasementPreferences, shortcut_reset_button);
  gtk_widget_class_bind_template_child (widget_class, CasementPreferences, timeout_spin);
  gtk_widget_class_bind_template_child (widget_class, CasementPreferences, tray_switch);
  gtk_widget_class_bind_template_child (widget_class, CasementPreferences, vms_group);

  gtk_widget_class_install_action (widget_class, "preferences.choose-folder", NULL,
                                   casement_preferences_choose_folder_action);
  gtk_widget_class_install_action (widget_class, "preferences.reset-folder", NULL,
                                   casement_preferences_reset_folder_action);
  gtk_widget_class_install_action (widget_class, "preferences.change-shortcut", NULL,
                                   casement_preferences_change_shortcut_action);
  gtk_widget_class_install_action (widget_class, "preferences.reset-shortcut", NULL,
                                   casement_preferences_reset_shortcut_action);
}

static void
casement_preferences_init (CasementPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

CasementPreferences *
casement_preferences_new (GtkWindow *parent,
                          GSettings *settings)
{
  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (!settings || G_IS_SETTINGS (settings), NULL);

  return g_object_new (CASEMENT_TYPE_PREFERENCES,
                       "transient-for", parent,
                       "settings", settings,
                       NULL);
}
