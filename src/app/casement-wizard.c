/* casement-wizard.c
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

#define G_LOG_DOMAIN "casement-wizard"

#include "config.h"

#include <glib/gi18n.h>

#include "casement-wizard-private.h"

static const char * const page_names[] = {
  [CASEMENT_WIZARD_PAGE_INSTALL_MEDIA] = "install-media",
  [CASEMENT_WIZARD_PAGE_DRIVERS] = "drivers",
  [CASEMENT_WIZARD_PAGE_HARDWARE] = "hardware",
  [CASEMENT_WIZARD_PAGE_SHARE] = "share",
  [CASEMENT_WIZARD_PAGE_INSTALL] = "install",
  [CASEMENT_WIZARD_PAGE_SUMMARY] = "summary",
  [CASEMENT_WIZARD_PAGE_PROGRESS] = "progress",
};

G_DEFINE_FINAL_TYPE (CasementWizard, casement_wizard, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_LIBRARY,
  PROP_HOST,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- Navigation --------------------------------------------------------- */

/* Focus goes where the page's next step is, so that Enter does it: the
 * chooser while a disc is missing, the first field (whose Enter is Next),
 * else Next itself, or the window, whose Enter binding is Next too. */
static void
casement_wizard_focus_page (CasementWizard *self)
{
  GtkWidget *target;

  g_assert (CASEMENT_IS_WIZARD (self));

  switch (self->page)
    {
    case CASEMENT_WIZARD_PAGE_INSTALL_MEDIA:
      target = self->install_file == NULL ? self->install_choose_button : self->next_button;
      break;
    case CASEMENT_WIZARD_PAGE_DRIVERS:
      target = self->drivers_file == NULL ? self->drivers_choose_button : self->next_button;
      break;
    case CASEMENT_WIZARD_PAGE_HARDWARE:
      target = GTK_WIDGET (self->name_row);
      break;
    case CASEMENT_WIZARD_PAGE_INSTALL:
      target = gtk_switch_get_active (self->express_switch) ? GTK_WIDGET (self->user_row) : self->next_button;
      break;
    case CASEMENT_WIZARD_PAGE_SHARE:
    case CASEMENT_WIZARD_PAGE_SUMMARY:
      target = self->next_button;
      break;
    case CASEMENT_WIZARD_PAGE_PROGRESS:
    default:
      target = NULL;
      break;
    }

  if (target == self->next_button && !gtk_widget_get_sensitive (target))
    target = NULL;

  if (target != NULL)
    gtk_widget_grab_focus (target);
  else
    gtk_window_set_focus (GTK_WINDOW (self), NULL);
}

/* After a check answers: when the user is still where they chose the
 * file, Enter should now go on. */
void
_casement_wizard_refocus (CasementWizard *self)
{
  GtkWidget *focus = gtk_window_get_focus (GTK_WINDOW (self));

  g_assert (CASEMENT_IS_WIZARD (self));

  if (focus == NULL || focus == self->install_choose_button || focus == self->drivers_choose_button)
    casement_wizard_focus_page (self);
}

void
_casement_wizard_set_page (CasementWizard     *self,
                           CasementWizardPage  page)
{
  g_assert (CASEMENT_IS_WIZARD (self));
  g_assert (page <= CASEMENT_WIZARD_PAGE_PROGRESS);

  self->page = page;
  gtk_stack_set_visible_child_name (self->stack, page_names[page]);
  _casement_wizard_update (self);
  casement_wizard_focus_page (self);
}

static void
casement_wizard_next_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  CasementWizard *self = CASEMENT_WIZARD (widget);

  g_assert (CASEMENT_IS_WIZARD (self));

  if (self->blocker != NULL || self->state != CASEMENT_WIZARD_STATE_EDITING)
    return;

  if (self->page == CASEMENT_WIZARD_PAGE_SUMMARY)
    _casement_wizard_create (self);
  else
    _casement_wizard_set_page (self, self->page + 1);
}

static void
casement_wizard_back_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  CasementWizard *self = CASEMENT_WIZARD (widget);

  g_assert (CASEMENT_IS_WIZARD (self));

  if (self->state == CASEMENT_WIZARD_STATE_FAILED)
    {
      self->state = CASEMENT_WIZARD_STATE_EDITING;
      _casement_wizard_set_page (self, CASEMENT_WIZARD_PAGE_SUMMARY);
      return;
    }

  if (self->state == CASEMENT_WIZARD_STATE_EDITING && self->page > 0)
    _casement_wizard_set_page (self, self->page - 1);
}

/* ---- Cancel ------------------------------------------------------------- */

static gboolean
casement_wizard_has_input (CasementWizard *self)
{
  return self->install_file != NULL || self->drivers_file != NULL || self->share_folder != NULL ||
         self->name_edited || self->cpus_edited || self->memory_edited || self->disk_edited ||
         _casement_wizard_get_text (self->password_row)[0] != '\0';
}

static void
casement_wizard_cancel_now (CasementWizard *self)
{
  g_assert (CASEMENT_IS_WIZARD (self));

  /* A creation in progress undoes itself first; the window goes after. */
  if (self->state == CASEMENT_WIZARD_STATE_CREATING)
    {
      self->close_when_done = TRUE;
      g_cancellable_cancel (self->create_cancellable);
      return;
    }

  gtk_window_destroy (GTK_WINDOW (self));
}

static void
casement_wizard_confirm_response (AdwMessageDialog *dialog,
                                  const char       *response,
                                  CasementWizard   *self)
{
  g_assert (CASEMENT_IS_WIZARD (self));

  self->confirm_dialog = NULL;
  if (g_str_equal (response, "discard"))
    casement_wizard_cancel_now (self);
}

static gboolean
casement_wizard_close_request (GtkWindow *window)
{
  CasementWizard *self = CASEMENT_WIZARD (window);
  AdwMessageDialog *dialog;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (self->state == CASEMENT_WIZARD_STATE_DONE || self->state == CASEMENT_WIZARD_STATE_STARTING ||
      self->state == CASEMENT_WIZARD_STATE_START_FAILED ||
      (self->state != CASEMENT_WIZARD_STATE_CREATING && !casement_wizard_has_input (self)))
    return GDK_EVENT_PROPAGATE;

  if (self->confirm_dialog != NULL)
    {
      gtk_window_present (self->confirm_dialog);
      return GDK_EVENT_STOP;
    }

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (window, _("Discard the New Virtual Machine?"), NULL));
  adw_message_dialog_set_body (dialog,
                               self->state == CASEMENT_WIZARD_STATE_CREATING
                               ? _("What was created so far is removed again.")
                               : _("The choices made in this wizard are lost."));
  adw_message_dialog_add_responses (dialog,
                                    "keep", _("_Keep Editing"),
                                    "discard", _("_Discard"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "discard", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "keep");
  adw_message_dialog_set_close_response (dialog, "keep");
  g_signal_connect_object (dialog, "response", G_CALLBACK (casement_wizard_confirm_response),
                           self, 0);
  self->confirm_dialog = GTK_WINDOW (dialog);
  gtk_window_present (GTK_WINDOW (dialog));

  return GDK_EVENT_STOP;
}

static void
casement_wizard_cancel_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  gtk_window_close (GTK_WINDOW (widget));
}

/* ---- Choosing files ----------------------------------------------------- */

typedef enum
{
  CHOOSE_INSTALL_ISO,
  CHOOSE_DRIVERS_ISO,
  CHOOSE_SHARE_FOLDER,
  CHOOSE_WINFSP_INSTALLER,
} ChooseKind;

static void
casement_wizard_chooser_response (GtkNativeDialog *dialog,
                                  int              response,
                                  CasementWizard  *self)
{
  g_autoptr(GFile) file = NULL;
  ChooseKind kind = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "kind"));

  g_assert (CASEMENT_IS_WIZARD (self));

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

  g_clear_object (&self->chooser);

  if (file == NULL)
    return;

  switch (kind)
    {
    case CHOOSE_INSTALL_ISO:
      casement_wizard_set_install_iso (self, file);
      break;
    case CHOOSE_DRIVERS_ISO:
      casement_wizard_set_drivers_iso (self, file);
      break;
    case CHOOSE_SHARE_FOLDER:
      casement_wizard_set_share_folder (self, file);
      break;
    case CHOOSE_WINFSP_INSTALLER:
      casement_wizard_set_winfsp_installer (self, file);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
casement_wizard_choose (CasementWizard *self,
                        ChooseKind      kind)
{
  g_autoptr(GtkFileFilter) iso_filter = NULL;
  g_autoptr(GtkFileFilter) msi_filter = NULL;
  g_autoptr(GtkFileFilter) all_filter = NULL;
  const char *title;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
      return;
    }

  switch (kind)
    {
    case CHOOSE_INSTALL_ISO:
      title = _("Choose the Windows Installation ISO");
      break;
    case CHOOSE_DRIVERS_ISO:
      title = _("Choose the virtio-win ISO");
      break;
    case CHOOSE_SHARE_FOLDER:
      title = _("Choose a Folder to Share");
      break;
    case CHOOSE_WINFSP_INSTALLER:
      title = _("Choose the WinFsp Installer");
      break;
    default:
      g_assert_not_reached ();
    }

  self->chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                               kind == CHOOSE_SHARE_FOLDER
                                               ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                               : GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Choose"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_object_set_data (G_OBJECT (self->chooser), "kind", GUINT_TO_POINTER (kind));

  if (kind == CHOOSE_WINFSP_INSTALLER)
    {
      msi_filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (msi_filter, _("Windows Installer Packages"));
      gtk_file_filter_add_mime_type (msi_filter, "application/x-msi");
      gtk_file_filter_add_suffix (msi_filter, "msi");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), msi_filter);
    }
  else if (kind != CHOOSE_SHARE_FOLDER)
    {
      iso_filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (iso_filter, _("Disc Images"));
      gtk_file_filter_add_mime_type (iso_filter, "application/x-cd-image");
      gtk_file_filter_add_suffix (iso_filter, "iso");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), iso_filter);

      all_filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (all_filter, _("All Files"));
      gtk_file_filter_add_pattern (all_filter, "*");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), all_filter);
    }

  g_signal_connect_object (self->chooser, "response",
                           G_CALLBACK (casement_wizard_chooser_response), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
casement_wizard_choose_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  CasementWizard *self = CASEMENT_WIZARD (widget);

  if (g_str_equal (action_name, "wizard.choose-install-iso"))
    casement_wizard_choose (self, CHOOSE_INSTALL_ISO);
  else if (g_str_equal (action_name, "wizard.choose-drivers-iso"))
    casement_wizard_choose (self, CHOOSE_DRIVERS_ISO);
  else if (g_str_equal (action_name, "wizard.choose-winfsp-installer"))
    casement_wizard_choose (self, CHOOSE_WINFSP_INSTALLER);
  else
    casement_wizard_choose (self, CHOOSE_SHARE_FOLDER);
}

static void
casement_wizard_clear_share_action (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *param)
{
  casement_wizard_set_share_folder (CASEMENT_WIZARD (widget), NULL);
}

/* A file dropped onto a page is what that page asks for. */
static gboolean
casement_wizard_drop (GtkDropTarget  *target,
                      const GValue   *value,
                      double          x,
                      double          y,
                      CasementWizard *self)
{
  GFile *file = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *files = gdk_file_list_get_files (g_value_get_boxed (value));

      file = files != NULL ? files->data : NULL;
      g_slist_free (files);
    }
  else if (G_VALUE_HOLDS (value, G_TYPE_FILE))
    {
      file = g_value_get_object (value);
    }

  if (file == NULL || self->state != CASEMENT_WIZARD_STATE_EDITING)
    return FALSE;

  switch (self->page)
    {
    case CASEMENT_WIZARD_PAGE_INSTALL_MEDIA:
      casement_wizard_set_install_iso (self, file);
      return TRUE;
    case CASEMENT_WIZARD_PAGE_DRIVERS:
      casement_wizard_set_drivers_iso (self, file);
      return TRUE;
    case CASEMENT_WIZARD_PAGE_SHARE:
      {
        g_autofree char *basename = g_file_get_basename (file);

        /* The page asks for a folder, and sometimes for WinFsp's MSI */
        if (basename != NULL && g_str_has_suffix (basename, ".msi"))
          casement_wizard_set_winfsp_installer (self, file);
        else
          casement_wizard_set_share_folder (self, file);
      }
      return TRUE;
    case CASEMENT_WIZARD_PAGE_HARDWARE:
    case CASEMENT_WIZARD_PAGE_INSTALL:
    case CASEMENT_WIZARD_PAGE_SUMMARY:
    case CASEMENT_WIZARD_PAGE_PROGRESS:
    default:
      return FALSE;
    }
}

/* ---- Fields the user edits ---------------------------------------------- */

static void
casement_wizard_field_changed (CasementWizard *self,
                               GParamSpec     *pspec,
                               GObject        *field)
{
  g_assert (CASEMENT_IS_WIZARD (self));

  if (!self->setting_defaults)
    {
      if (field == G_OBJECT (self->memory_row))
        self->memory_edited = TRUE;
      else if (field == G_OBJECT (self->disk_row))
        self->disk_edited = TRUE;
      else if (field == G_OBJECT (self->computer_row))
        self->computer_edited = TRUE;
      else if (field == G_OBJECT (self->cpus_spin))
        self->cpus_edited = TRUE;
    }

  _casement_wizard_update (self);
}

/* ---- WinFsp ------------------------------------------------------------- */

static void
casement_wizard_check_winfsp (CasementWizard *self,
                              GFile          *msi)
{
  g_assert (CASEMENT_IS_WIZARD (self));

  g_cancellable_cancel (self->winfsp_cancellable);
  g_clear_object (&self->winfsp_cancellable);
  g_clear_pointer (&self->winfsp_problem, g_free);
  g_set_object (&self->winfsp_installer, msi);
  self->checking_winfsp = FALSE;

  if (msi != NULL)
    {
      self->winfsp_cancellable = g_cancellable_new ();
      self->checking_winfsp = TRUE;
      g_file_query_info_async (msi, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_ACCESS_CAN_READ,
                               G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, self->winfsp_cancellable,
                               _casement_wizard_winfsp_checked, g_object_ref (self));
    }

  _casement_wizard_show_share (self);
  _casement_wizard_update (self);
}

void
casement_wizard_set_winfsp_installer (CasementWizard *self,
                                      GFile          *msi)
{
  g_return_if_fail (CASEMENT_IS_WIZARD (self));
  g_return_if_fail (msi == NULL || G_IS_FILE (msi));

  self->winfsp_chosen = TRUE;
  casement_wizard_check_winfsp (self, msi);
}

/* The installer the user pointed to for an earlier VM. Settings exist
 * where the schema is installed; uninstalled runs remember nothing. */
static void
casement_wizard_load_winfsp_installer (CasementWizard *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autofree char *path = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL || !g_settings_schema_has_key (schema, "winfsp-installer"))
    return;

  self->settings = g_settings_new_full (schema, NULL, NULL);
  path = g_settings_get_string (self->settings, "winfsp-installer");
  if (g_path_is_absolute (path))
    {
      g_autoptr(GFile) msi = g_file_new_for_path (path);

      casement_wizard_check_winfsp (self, msi);
    }
}

/* ---- GObject ------------------------------------------------------------ */

static void
casement_wizard_constructed (GObject *object)
{
  CasementWizard *self = (CasementWizard *)object;

  G_OBJECT_CLASS (casement_wizard_parent_class)->constructed (object);

  g_assert (CASEMENT_IS_LIBRARY (self->library));

  if (self->host == NULL)
    {
      self->probing_host = TRUE;
      casement_host_probe_async (self->cancellable, _casement_wizard_probe_cb, g_object_ref (self));
    }

  _casement_wizard_check_free_space (self);
  casement_wizard_load_winfsp_installer (self);
  _casement_wizard_apply_defaults (self);
  _casement_wizard_set_page (self, CASEMENT_WIZARD_PAGE_INSTALL_MEDIA);
}

static void
casement_wizard_dispose (GObject *object)
{
  CasementWizard *self = (CasementWizard *)object;

  self->disposed = TRUE;

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->install_cancellable);
  g_cancellable_cancel (self->drivers_cancellable);
  g_cancellable_cancel (self->name_cancellable);
  g_cancellable_cancel (self->share_cancellable);
  g_cancellable_cancel (self->winfsp_cancellable);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->confirm_dialog != NULL)
    gtk_window_destroy (self->confirm_dialog);

  G_OBJECT_CLASS (casement_wizard_parent_class)->dispose (object);
}

static void
casement_wizard_finalize (GObject *object)
{
  CasementWizard *self = (CasementWizard *)object;

  g_clear_object (&self->library);
  g_clear_object (&self->host);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->install_cancellable);
  g_clear_object (&self->drivers_cancellable);
  g_clear_object (&self->name_cancellable);
  g_clear_object (&self->share_cancellable);
  g_clear_object (&self->winfsp_cancellable);
  g_clear_object (&self->create_cancellable);
  g_clear_object (&self->settings);
  g_clear_object (&self->install_file);
  g_clear_pointer (&self->install_media, casement_install_media_free);
  g_clear_pointer (&self->install_problem, g_free);
  g_clear_object (&self->drivers_file);
  g_clear_pointer (&self->drivers_media, casement_driver_media_free);
  g_clear_pointer (&self->drivers_problem, g_free);
  g_clear_object (&self->share_folder);
  g_clear_pointer (&self->share_problem, g_free);
  g_clear_object (&self->winfsp_installer);
  g_clear_pointer (&self->winfsp_problem, g_free);
  g_clear_pointer (&self->name_checked, g_free);
  g_clear_pointer (&self->host_problem, g_free);
  g_clear_pointer (&self->space_path, g_free);
  g_clear_object (&self->config);
  g_clear_pointer (&self->slug, g_free);
  g_clear_pointer (&self->blocker, g_free);
  g_clear_pointer (&self->host_language, g_free);

  G_OBJECT_CLASS (casement_wizard_parent_class)->finalize (object);
}

static void
casement_wizard_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  CasementWizard *self = CASEMENT_WIZARD (object);

  switch (prop_id)
    {
    case PROP_LIBRARY:
      self->library = g_value_dup_object (value);
      break;

    case PROP_HOST:
      self->host = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_wizard_class_init (CasementWizardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = casement_wizard_constructed;
  object_class->dispose = casement_wizard_dispose;
  object_class->finalize = casement_wizard_finalize;
  object_class->set_property = casement_wizard_set_property;
  window_class->close_request = casement_wizard_close_request;

  properties[PROP_LIBRARY] =
    g_param_spec_object ("library", NULL, NULL,
                         CASEMENT_TYPE_LIBRARY,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HOST] =
    g_param_spec_object ("host", NULL, NULL,
                         CASEMENT_TYPE_HOST,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/casement/Casement/ui/casement-wizard.ui");
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, account_group);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, back_button);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, computer_icon);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, computer_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, confirm_icon);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, confirm_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, cpus_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, cpus_spin);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, disk_icon);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, disk_note);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, disk_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, drivers_choose_button);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, drivers_details);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, drivers_error);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, drivers_found_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, drivers_missing_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, drivers_note);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, drivers_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, drivers_spinner);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, drivers_tools_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, drivers_version_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, express_switch);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_arch_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_choose_button);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_details);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_edition_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_error);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_image_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_name_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_needs_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_spinner);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_version_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, install_warning);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, key_group);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, keyboard_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, language_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, locale_group);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, manual_label);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, memory_icon);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, memory_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, name_icon);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, name_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, nav_bar);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, next_button);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, next_reason);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, open_button);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, password_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, product_key_icon);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, product_key_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, progress_back_button);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, progress_buttons);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, progress_error);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, progress_title);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, resources_note);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, retry_button);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, share_clear_button);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, share_error);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, share_method_label);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, share_read_only_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, share_read_only_switch);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, share_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, stack);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, step_list);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, summary_disk_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, summary_drivers_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, summary_error);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, summary_host);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, summary_install_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, summary_name_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, summary_resources_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, summary_security_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, summary_share_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, summary_windows_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, user_icon);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, user_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, winfsp_group);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, winfsp_note);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, winfsp_row);
  gtk_widget_class_bind_template_child (widget_class, CasementWizard, window_title);

  gtk_widget_class_install_action (widget_class, "wizard.next", NULL, casement_wizard_next_action);
  gtk_widget_class_install_action (widget_class, "wizard.back", NULL, casement_wizard_back_action);
  gtk_widget_class_install_action (widget_class, "wizard.cancel", NULL, casement_wizard_cancel_action);
  gtk_widget_class_install_action (widget_class, "wizard.retry", NULL, _casement_wizard_retry_action);
  gtk_widget_class_install_action (widget_class, "wizard.open", NULL, _casement_wizard_open_action);
  gtk_widget_class_install_action (widget_class, "wizard.choose-install-iso", NULL, casement_wizard_choose_action);
  gtk_widget_class_install_action (widget_class, "wizard.choose-drivers-iso", NULL, casement_wizard_choose_action);
  gtk_widget_class_install_action (widget_class, "wizard.choose-share-folder", NULL, casement_wizard_choose_action);
  gtk_widget_class_install_action (widget_class, "wizard.clear-share-folder", NULL,
                                   casement_wizard_clear_share_action);
  gtk_widget_class_install_action (widget_class, "wizard.choose-winfsp-installer", NULL,
                                   casement_wizard_choose_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "wizard.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK, "wizard.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, 0, "wizard.next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, 0, "wizard.next", NULL);
}

static void
casement_wizard_init (CasementWizard *self)
{
  GtkDropTarget *drop;
  GType drop_types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE };

  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_window_set_default_widget (GTK_WINDOW (self), self->next_button);

  _casement_wizard_setup_locale (self);
  _casement_wizard_setup_steps (self);

  g_signal_connect_object (self->name_row, "changed",
                           G_CALLBACK (_casement_wizard_name_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->memory_row, "notify::text",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->disk_row, "notify::text",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->cpus_spin, "notify::value",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->computer_row, "notify::text",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->user_row, "notify::text",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->password_row, "notify::text",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->confirm_row, "notify::text",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->product_key_row, "notify::text",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->express_switch, "notify::active",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->share_read_only_switch, "notify::active",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->install_image_row, "notify::selected",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->language_row, "notify::selected",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->keyboard_row, "notify::selected",
                           G_CALLBACK (casement_wizard_field_changed), self, G_CONNECT_SWAPPED);

  _casement_wizard_set_default_text (self, self->user_row, g_get_user_name ());

  drop = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (drop, drop_types, G_N_ELEMENTS (drop_types));
  g_signal_connect_object (drop, "drop", G_CALLBACK (casement_wizard_drop), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self->stack), GTK_EVENT_CONTROLLER (drop));
}

/* ---- Public API --------------------------------------------------------- */

CasementWizard *
casement_wizard_new (GtkWindow       *parent,
                     CasementLibrary *library,
                     CasementHost    *host)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (CASEMENT_IS_LIBRARY (library), NULL);
  g_return_val_if_fail (host == NULL || CASEMENT_IS_HOST (host), NULL);

  return g_object_new (CASEMENT_TYPE_WIZARD,
                       "transient-for", parent,
                       "application", parent != NULL ? gtk_window_get_application (parent) : NULL,
                       "library", library,
                       "host", host,
                       NULL);
}

void
casement_wizard_set_install_iso (CasementWizard *self,
                                 GFile          *iso)
{
  g_return_if_fail (CASEMENT_IS_WIZARD (self));
  g_return_if_fail (G_IS_FILE (iso));

  g_cancellable_cancel (self->install_cancellable);
  g_clear_object (&self->install_cancellable);
  g_clear_pointer (&self->install_media, casement_install_media_free);
  g_clear_pointer (&self->install_problem, g_free);
  g_set_object (&self->install_file, iso);

  self->install_cancellable = g_cancellable_new ();
  self->detecting_install = TRUE;
  casement_media_detect_install_async (iso, self->install_cancellable,
                                       _casement_wizard_install_detected, g_object_ref (self));

  _casement_wizard_show_install_media (self);
  _casement_wizard_check_drivers (self);
  _casement_wizard_update (self);
}

void
casement_wizard_set_drivers_iso (CasementWizard *self,
                                 GFile          *iso)
{
  g_return_if_fail (CASEMENT_IS_WIZARD (self));
  g_return_if_fail (G_IS_FILE (iso));

  g_set_object (&self->drivers_file, iso);
  _casement_wizard_check_drivers (self);
  _casement_wizard_update (self);
}

void
casement_wizard_set_share_folder (CasementWizard *self,
                                  GFile          *folder)
{
  g_return_if_fail (CASEMENT_IS_WIZARD (self));
  g_return_if_fail (folder == NULL || G_IS_FILE (folder));

  g_cancellable_cancel (self->share_cancellable);
  g_clear_object (&self->share_cancellable);
  g_clear_pointer (&self->share_problem, g_free);
  g_set_object (&self->share_folder, folder);
  self->checking_share = FALSE;

  if (folder != NULL)
    {
      self->share_cancellable = g_cancellable_new ();
      self->checking_share = TRUE;
      g_file_query_info_async (folder, G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NONE,
                               G_PRIORITY_DEFAULT, self->share_cancellable,
                               _casement_wizard_share_checked, g_object_ref (self));
    }

  _casement_wizard_show_share (self);
  _casement_wizard_update (self);
}

CasementWizardPage
casement_wizard_get_page (CasementWizard *self)
{
  g_return_val_if_fail (CASEMENT_IS_WIZARD (self), CASEMENT_WIZARD_PAGE_INSTALL_MEDIA);

  return self->page;
}

CasementWizardState
casement_wizard_get_state (CasementWizard *self)
{
  g_return_val_if_fail (CASEMENT_IS_WIZARD (self), CASEMENT_WIZARD_STATE_EDITING);

  return self->state;
}

const char *
casement_wizard_get_blocker (CasementWizard *self)
{
  g_return_val_if_fail (CASEMENT_IS_WIZARD (self), NULL);

  return self->blocker;
}

gboolean
casement_wizard_is_busy (CasementWizard *self)
{
  g_return_val_if_fail (CASEMENT_IS_WIZARD (self), FALSE);

  return self->probing_host || self->detecting_install || self->checking_drivers ||
         self->checking_name || self->checking_space || self->checking_share || self->checking_winfsp;
}

const char *
casement_wizard_get_slug (CasementWizard *self)
{
  g_return_val_if_fail (CASEMENT_IS_WIZARD (self), NULL);

  return self->slug;
}
