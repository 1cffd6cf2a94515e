/* casement-wizard-checks.c
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

#include <string.h>

#include <glib/gi18n.h>

#include "casement-qemu-command.h"
#include "casement-util.h"
#include "casement-wizard-private.h"

/* Windows input locales (language id : keyboard layout id) offered for
 * the keyboard. */
typedef struct
{
  const char *id;
  const char *name;
} KeyboardInfo;

static const KeyboardInfo keyboards[] = {
  { "0409:00000409", N_("English (US)") },
  { "0409:00020409", N_("English (US, international)") },
  { "0809:00000809", N_("English (UK)") },
  { "0407:00000407", N_("German") },
  { "0807:00000807", N_("German (Switzerland)") },
  { "040c:0000040c", N_("French") },
  { "080c:0000080c", N_("French (Belgium)") },
  { "100c:0000100c", N_("French (Switzerland)") },
  { "0c0c:00001009", N_("French (Canada)") },
  { "0c0a:0000040a", N_("Spanish") },
  { "080a:0000080a", N_("Spanish (Latin America)") },
  { "0410:00000410", N_("Italian") },
  { "0816:00000816", N_("Portuguese") },
  { "0416:00000416", N_("Portuguese (Brazil)") },
  { "0413:00020409", N_("Dutch (US, international)") },
  { "0813:00000813", N_("Dutch (Belgium)") },
  { "041d:0000041d", N_("Swedish") },
  { "0414:00000414", N_("Norwegian") },
  { "0406:00000406", N_("Danish") },
  { "040b:0000040b", N_("Finnish") },
  { "0415:00000415", N_("Polish") },
  { "0405:00000405", N_("Czech") },
  { "0419:00000419", N_("Russian") },
  { "0422:00000422", N_("Ukrainian") },
  { "041f:0000041f", N_("Turkish") },
  { "0411:00000411", N_("Japanese") },
  { "0412:00000412", N_("Korean") },
  { "0804:00000804", N_("Chinese (Simplified)") },
};

/* The host locale's language as a BCP 47 tag, and the keyboard that goes
 * with it: the small mapping express install starts from. */
typedef struct
{
  const char *tag;
  const char *name;
  const char *keyboard;
} LanguageInfo;

static const LanguageInfo languages[] = {
  { "en-US", N_("English (United States)"), "0409:00000409" },
  { "en-GB", N_("English (United Kingdom)"), "0809:00000809" },
  { "en-IE", N_("English (Ireland)"), "0809:00000809" },
  { "en-CA", N_("English (Canada)"), "0409:00000409" },
  { "en-AU", N_("English (Australia)"), "0409:00000409" },
  { "de-DE", N_("German (Germany)"), "0407:00000407" },
  { "de-AT", N_("German (Austria)"), "0407:00000407" },
  { "de-CH", N_("German (Switzerland)"), "0807:00000807" },
  { "fr-FR", N_("French (France)"), "040c:0000040c" },
  { "fr-BE", N_("French (Belgium)"), "080c:0000080c" },
  { "fr-CH", N_("French (Switzerland)"), "100c:0000100c" },
  { "fr-CA", N_("French (Canada)"), "0c0c:00001009" },
  { "es-ES", N_("Spanish (Spain)"), "0c0a:0000040a" },
  { "es-MX", N_("Spanish (Mexico)"), "080a:0000080a" },
  { "it-IT", N_("Italian (Italy)"), "0410:00000410" },
  { "pt-PT", N_("Portuguese (Portugal)"), "0816:00000816" },
  { "pt-BR", N_("Portuguese (Brazil)"), "0416:00000416" },
  { "nl-NL", N_("Dutch (Netherlands)"), "0413:00020409" },
  { "nl-BE", N_("Dutch (Belgium)"), "0813:00000813" },
  { "sv-SE", N_("Swedish (Sweden)"), "041d:0000041d" },
  { "nb-NO", N_("Norwegian (Norway)"), "0414:00000414" },
  { "da-DK", N_("Danish (Denmark)"), "0406:00000406" },
  { "fi-FI", N_("Finnish (Finland)"), "040b:0000040b" },
  { "pl-PL", N_("Polish (Poland)"), "0415:00000415" },
  { "cs-CZ", N_("Czech (Czechia)"), "0405:00000405" },
  { "ru-RU", N_("Russian (Russia)"), "0419:00000419" },
  { "uk-UA", N_("Ukrainian (Ukraine)"), "0422:00000422" },
  { "tr-TR", N_("Turkish (Türkiye)"), "041f:0000041f" },
  { "ja-JP", N_("Japanese (Japan)"), "0411:00000411" },
  { "ko-KR", N_("Korean (Korea)"), "0412:00000412" },
  { "zh-CN", N_("Chinese (China)"), "0804:00000804" },
};

/* ---- Small helpers ------------------------------------------------------ */

void
_casement_wizard_set_message (GtkLabel   *label,
                              const char *text)
{
  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL && text[0] != '\0');
}

/* Marks an entry row as wrong, with the reason on its error icon. */
static void
set_field_problem (gpointer    row,
                   GtkWidget  *icon,
                   const char *problem)
{
  if (problem != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (row), "error");

  gtk_widget_set_visible (icon, problem != NULL);
  gtk_widget_set_tooltip_text (icon, problem);
}

static char *
dup_size (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

/* A size as the entries show it: whole GiB when it is one, else MiB. */
static char *
dup_size_text (guint64 bytes)
{
  if (bytes % GIB == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " GiB", bytes / GIB);

  return g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", bytes / MIB);
}

/* "Windows 11" for libosinfo's "Microsoft Windows 11". */
static const char *
get_windows_name (const CasementInstallMedia *media)
{
  g_assert (media != NULL);

  if (media->name == NULL)
    return _("Windows");
  if (g_str_has_prefix (media->name, "Microsoft "))
    return media->name + strlen ("Microsoft ");
  return media->name;
}

static gboolean
is_windows_11 (CasementWizard *self)
{
  return self->install_media != NULL && g_strcmp0 (self->install_media->os_id, "win11") == 0;
}

const char *
_casement_wizard_get_text (gpointer editable)
{
  return gtk_editable_get_text (GTK_EDITABLE (editable));
}

void
_casement_wizard_set_default_text (CasementWizard *self,
                                   gpointer        editable,
                                   const char     *text)
{
  g_assert (CASEMENT_IS_WIZARD (self));

  self->setting_defaults = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (editable), text);
  self->setting_defaults = FALSE;
}

static gboolean
parse_size_field (gpointer  editable,
                  guint64  *bytes)
{
  g_autofree char *text = g_strstrip (g_strdup (_casement_wizard_get_text (editable)));

  return text[0] != '\0' && casement_util_parse_size (text, bytes, NULL) && *bytes > 0;
}

/* The host's language as a BCP 47 tag ("de_DE.UTF-8" → "de-DE"), from the
 * locale GLib found in LANGUAGE, LC_ALL, LC_MESSAGES and LANG. */
static char *
dup_host_language (void)
{
  const char * const *names = g_get_language_names ();

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *tag = g_strdup (names[i]);
      char *end;

      if ((end = strpbrk (tag, ".@")))
        *end = '\0';
      if (g_str_equal (tag, "C") || g_str_equal (tag, "POSIX") || strchr (tag, '_') == NULL)
        continue;

      g_strdelimit (tag, "_", '-');
      return g_steal_pointer (&tag);
    }

  return g_strdup ("en-US");
}

/* A NetBIOS name from the VM's name: "Windows 11" → "WINDOWS-11". */
static char *
dup_computer_name (const char *vm_name)
{
  g_autoptr(GString) name = g_string_new (NULL);
  gboolean only_digits = TRUE;

  for (const char *p = vm_name; *p && name->len < 15; p++)
    {
      if (g_ascii_isalnum (*p))
        {
          g_string_append_c (name, g_ascii_toupper (*p));
          only_digits &= g_ascii_isdigit (*p);
        }
      else if (name->len > 0 && name->str[name->len - 1] != '-')
        {
          g_string_append_c (name, '-');
        }
    }

  while (name->len > 0 && name->str[name->len - 1] == '-')
    g_string_truncate (name, name->len - 1);

  if (name->len == 0 || only_digits)
    return g_strdup ("WINDOWS-PC");

  return g_string_free (g_steal_pointer (&name), FALSE);
}

/* Whether a config with this one field set passes the config's own
 * checks, so the wizard accepts exactly what vm.json does. */
static gboolean
config_accepts (void        (*setter) (CasementVmConfig *, const char *),
                const char   *value)
{
  g_autoptr(CasementVmConfig) probe = casement_vm_config_new ("probe");

  setter (probe, value);
  return casement_vm_config_validate (probe, NULL);
}

static const CasementWindowsImage *
get_selected_image (CasementWizard *self)
{
  guint selected;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (self->install_media == NULL || self->install_media->images->len == 0)
    return NULL;

  selected = adw_combo_row_get_selected (self->install_image_row);
  if (selected >= self->install_media->images->len)
    return casement_install_media_get_default_image (self->install_media);

  return g_ptr_array_index (self->install_media->images, selected);
}

static const char *
get_selected_language (CasementWizard *self)
{
  GtkStringObject *item = adw_combo_row_get_selected_item (self->language_row);
  guint selected = adw_combo_row_get_selected (self->language_row);

  if (item == NULL)
    return NULL;

  /* The host's language sits after the table when the table lacks it. */
  if (selected < G_N_ELEMENTS (languages))
    return languages[selected].tag;

  return self->host_language;
}

static const char *
get_selected_keyboard (CasementWizard *self)
{
  guint selected = adw_combo_row_get_selected (self->keyboard_row);

  if (selected >= G_N_ELEMENTS (keyboards))
    return NULL;

  return keyboards[selected].id;
}

/* ---- The host ----------------------------------------------------------- */

void
_casement_wizard_probe_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(CasementHost) host = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  host = casement_host_probe_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->probing_host = FALSE;

  if (host == NULL)
    {
      self->host_problem = g_strdup_printf (_("Cannot check this computer: %s"), error->message);
      _casement_wizard_update (self);
      return;
    }

  g_set_object (&self->host, host);
  _casement_wizard_apply_defaults (self);
  _casement_wizard_update (self);
}

/* ---- Free space in the library ------------------------------------------ */

static void query_free_space (CasementWizard *self,
                              GFile          *file);

static void
casement_wizard_free_space_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  GFile *file = G_FILE (object);

  g_assert (CASEMENT_IS_WIZARD (self));

  info = g_file_query_filesystem_info_finish (file, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* The library folder is made with the first VM: measure where it will be. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    {
      g_autoptr(GFile) parent = g_file_get_parent (file);

      if (parent != NULL)
        {
          query_free_space (self, parent);
          return;
        }
    }

  self->checking_space = FALSE;

  if (info == NULL || !g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE))
    {
      g_debug ("No free space known for the library: %s",
               error != NULL ? error->message : "no attribute");
      _casement_wizard_update (self);
      return;
    }

  self->free_space = g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE);
  self->free_space_known = TRUE;
  _casement_wizard_update (self);
}

static void
query_free_space (CasementWizard *self,
                  GFile          *file)
{
  g_assert (CASEMENT_IS_WIZARD (self));

  g_file_query_filesystem_info_async (file, G_FILE_ATTRIBUTE_FILESYSTEM_FREE, G_PRIORITY_DEFAULT,
                                      self->cancellable, casement_wizard_free_space_cb,
                                      g_object_ref (self));
}

void
_casement_wizard_check_free_space (CasementWizard *self)
{
  g_autoptr(GFile) root = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  g_free (self->space_path);
  self->space_path = g_strdup (casement_vm_store_get_root (casement_library_get_store (self->library)));
  self->checking_space = TRUE;
  root = g_file_new_for_path (self->space_path);
  query_free_space (self, root);
}

/* ---- The VM's name ------------------------------------------------------ */

typedef struct
{
  CasementVmStore *store;
  char            *name;
  gboolean         find_free;  /* answer with the first free "name (n)" */
} NameCheck;

static void
name_check_free (gpointer data)
{
  NameCheck *check = data;

  g_clear_object (&check->store);
  g_free (check->name);
  g_free (check);
}

/* Reads the store's vm.json files: a worker thread's job. Returns the
 * name when it is free, else NULL (or the first free variant). */
static void
name_check_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  NameCheck *check = task_data;

  for (guint n = 1; !g_cancellable_is_cancelled (cancellable); n++)
    {
      g_autofree char *candidate = n == 1 ? g_strdup (check->name)
                                          : g_strdup_printf ("%s (%u)", check->name, n);
      g_autofree char *slug = casement_vm_store_lookup (check->store, candidate);

      if (slug == NULL)
        {
          g_task_return_pointer (task, g_steal_pointer (&candidate), g_free);
          return;
        }

      if (!check->find_free)
        {
          g_task_return_pointer (task, NULL, NULL);
          return;
        }
    }

  g_task_return_error_if_cancelled (task);
}

static void
start_name_check (CasementWizard      *self,
                  const char          *name,
                  gboolean             find_free,
                  GAsyncReadyCallback  callback)
{
  g_autoptr(GTask) task = NULL;
  NameCheck *check;

  g_assert (CASEMENT_IS_WIZARD (self));

  g_cancellable_cancel (self->name_cancellable);
  g_clear_object (&self->name_cancellable);
  self->name_cancellable = g_cancellable_new ();
  self->checking_name = TRUE;

  check = g_new0 (NameCheck, 1);
  check->store = g_object_ref (casement_library_get_store (self->library));
  check->name = g_strdup (name);
  check->find_free = find_free;

  task = g_task_new (self, self->name_cancellable, callback, NULL);
  g_task_set_source_tag (task, start_name_check);
  g_task_set_task_data (task, check, name_check_free);
  g_task_run_in_thread (task, name_check_thread);
}

static void
casement_wizard_name_checked (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  CasementWizard *self = CASEMENT_WIZARD (object);
  NameCheck *check = g_task_get_task_data (G_TASK (result));
  g_autofree char *free_name = NULL;
  g_autoptr(GError) error = NULL;

  free_name = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->checking_name = FALSE;
  g_free (self->name_checked);
  self->name_checked = g_strdup (check->name);
  self->name_taken = free_name == NULL;
  _casement_wizard_update (self);
}

static void
casement_wizard_default_name_found (GObject      *object,
                                    GAsyncResult *result,
                                    gpointer      user_data)
{
  CasementWizard *self = CASEMENT_WIZARD (object);
  g_autofree char *free_name = NULL;
  g_autoptr(GError) error = NULL;

  free_name = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->checking_name = FALSE;

  /* The user typed a name meanwhile: theirs is checked instead. */
  if (self->name_edited || free_name == NULL)
    return;

  g_free (self->name_checked);
  self->name_checked = g_strdup (free_name);
  self->name_taken = FALSE;
  _casement_wizard_set_default_text (self, self->name_row, free_name);
  _casement_wizard_update (self);
}

void
_casement_wizard_name_changed (CasementWizard *self)
{
  g_autofree char *name = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  name = g_strstrip (g_strdup (_casement_wizard_get_text (self->name_row)));

  if (!self->setting_defaults)
    {
      self->name_edited = TRUE;
      if (name[0] != '\0')
        start_name_check (self, name, FALSE, casement_wizard_name_checked);
    }

  if (!self->computer_edited && name[0] != '\0')
    {
      g_autofree char *computer = dup_computer_name (name);

      _casement_wizard_set_default_text (self, self->computer_row, computer);
    }

  _casement_wizard_update (self);
}

/* ---- Defaults from the disc and the host -------------------------------- */

void
_casement_wizard_apply_defaults (CasementWizard *self)
{
  const CasementInstallMedia *media = self->install_media;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (self->host != NULL)
    {
      guint threads = casement_host_get_cpu_threads (self->host);
      guint min_cpus = media != NULL ? media->min_cpus : 1;
      GtkAdjustment *adjustment = gtk_spin_button_get_adjustment (self->cpus_spin);

      gtk_adjustment_set_upper (adjustment, MAX (MAX (threads, min_cpus), 1));

      if (!self->cpus_edited)
        {
          self->setting_defaults = TRUE;
          gtk_spin_button_set_value (self->cpus_spin,
                                     MAX (casement_host_get_default_cpus (self->host), min_cpus));
          self->setting_defaults = FALSE;
        }
    }

  if (media == NULL)
    return;

  if (!self->memory_edited && self->host != NULL)
    {
      guint64 host_ram = casement_host_get_memory_mib (self->host) * MIB;
      guint64 memory = media->recommended_ram != 0 ? media->recommended_ram : 4 * GIB;
      g_autofree char *text = NULL;

      /* Half the host at most, so the host stays usable; never below what
       * Windows needs (the page then says when the host cannot give it). */
      memory = MIN (memory, host_ram / 2);
      memory = MAX (memory, media->min_ram);
      memory = memory / GIB > 0 ? memory / GIB * GIB : memory / MIB * MIB;
      text = dup_size_text (memory);
      _casement_wizard_set_default_text (self, self->memory_row, text);
    }

  if (!self->disk_edited)
    {
      guint64 disk = MAX (media->recommended_storage, media->min_storage);
      g_autofree char *text = NULL;

      if (disk == 0)
        disk = 64 * GIB;
      disk = (disk + GIB - 1) / GIB * GIB;
      text = dup_size_text (disk);
      _casement_wizard_set_default_text (self, self->disk_row, text);
    }

  if (!self->name_edited)
    start_name_check (self, get_windows_name (media), TRUE, casement_wizard_default_name_found);
}

/* ---- The Windows disc --------------------------------------------------- */

void
_casement_wizard_show_install_media (CasementWizard *self)
{
  const CasementInstallMedia *media = self->install_media;
  g_autoptr(GtkStringList) images = NULL;
  const CasementWindowsImage *image;
  g_autofree char *needs = NULL;
  g_autofree char *version = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  gtk_widget_set_visible (GTK_WIDGET (self->install_spinner), self->detecting_install);
  gtk_spinner_set_spinning (self->install_spinner, self->detecting_install);
  _casement_wizard_set_message (self->install_error, self->install_problem);
  _casement_wizard_set_message (self->install_warning, media != NULL ? media->warning : NULL);
  gtk_widget_set_visible (self->install_details, media != NULL);

  if (self->install_file != NULL)
    {
      g_autofree char *shown = g_file_get_parse_name (self->install_file);

      adw_action_row_set_subtitle (self->install_row, shown);
    }
  else
    {
      adw_action_row_set_subtitle (self->install_row, _("No file chosen"));
    }

  if (media == NULL)
    return;

  adw_action_row_set_subtitle (self->install_name_row, media->name);
  image = casement_install_media_get_default_image (media);
  if (image != NULL && image->build != 0)
    version = g_strdup_printf (_("%s, build %u (disc label %s)"), media->version, image->build,
                               media->volume_id != NULL ? media->volume_id : "");
  else if (media->volume_id != NULL)
    version = g_strdup_printf (_("%s (disc label %s)"), media->version, media->volume_id);
  adw_action_row_set_subtitle (self->install_version_row, version != NULL ? version : media->version);
  adw_action_row_set_subtitle (self->install_arch_row, media->architecture);

  images = gtk_string_list_new (NULL);
  for (guint i = 0; i < media->images->len; i++)
    gtk_string_list_append (images, ((CasementWindowsImage *) g_ptr_array_index (media->images, i))->name);
  adw_combo_row_set_model (self->install_image_row, G_LIST_MODEL (images));
  for (guint i = 0; i < media->images->len; i++)
    if (g_ptr_array_index (media->images, i) == image)
      adw_combo_row_set_selected (self->install_image_row, i);

  /* A list of one is no choice: shown as a plain row. */
  gtk_widget_set_visible (GTK_WIDGET (self->install_image_row), media->images->len > 1);
  gtk_widget_set_visible (GTK_WIDGET (self->install_edition_row),
                          media->images->len == 1 || (media->images->len == 0 && media->edition != NULL));
  if (media->images->len == 1)
    adw_action_row_set_subtitle (self->install_edition_row,
                                 ((CasementWindowsImage *) g_ptr_array_index (media->images, 0))->name);
  else if (media->edition != NULL)
    adw_action_row_set_subtitle (self->install_edition_row, media->edition);

  if (media->min_ram != 0 || media->min_storage != 0)
    {
      g_autofree char *ram = dup_size (media->min_ram);
      g_autofree char *storage = dup_size (media->min_storage);

      needs = g_strdup_printf (ngettext ("%u processor, %s of memory, a %s disk",
                                         "%u processors, %s of memory, a %s disk",
                                         MAX (media->min_cpus, 1)),
                               MAX (media->min_cpus, 1), ram, storage);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->install_needs_row), needs != NULL);
  adw_action_row_set_subtitle (self->install_needs_row, needs);
}

void
_casement_wizard_install_detected (GObject      *object,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(CasementInstallMedia) media = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  media = casement_media_detect_install_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->detecting_install = FALSE;

  if (media == NULL)
    {
      self->install_problem = g_strdup (error->message);
    }
  else
    self->install_media = g_steal_pointer (&media);

  _casement_wizard_show_install_media (self);
  _casement_wizard_check_drivers (self);
  _casement_wizard_apply_defaults (self);
  _casement_wizard_update (self);
  _casement_wizard_refocus (self);
}

/* ---- The virtio-win disc ------------------------------------------------ */

static void
casement_wizard_show_drivers (CasementWizard *self)
{
  const CasementDriverMedia *media = self->drivers_media;

  g_assert (CASEMENT_IS_WIZARD (self));

  gtk_widget_set_visible (GTK_WIDGET (self->drivers_spinner), self->checking_drivers);
  gtk_spinner_set_spinning (self->drivers_spinner, self->checking_drivers);

  if (self->drivers_file != NULL)
    {
      g_autofree char *shown = g_file_get_parse_name (self->drivers_file);

      adw_action_row_set_subtitle (self->drivers_row, shown);
    }
  else
    {
      adw_action_row_set_subtitle (self->drivers_row, _("No file chosen"));
    }

  _casement_wizard_set_message (self->drivers_error,
               self->drivers_problem != NULL ? self->drivers_problem
                                             : media != NULL ? media->problem : NULL);
  _casement_wizard_set_message (self->drivers_note, media != NULL ? media->note : NULL);
  gtk_widget_set_visible (self->drivers_details, media != NULL);

  if (media == NULL)
    return;

  /* The manual install's one hard step, with the folder spelled out. */
  {
    g_autofree char *folder = g_strdup_printf ("viostor\\%s\\amd64", media->os_dir);
    g_autofree char *manual = g_strdup_printf (_("You will answer Windows Setup’s questions yourself. When "
                                                 "Setup shows no disk to install to, click “Load driver” and "
                                                 "choose the folder %s on the drivers disc. Afterwards, run "
                                                 "virtio-win-guest-tools.exe from that disc."),
                                               folder);

    gtk_label_set_text (self->manual_label, manual);
  }

  adw_action_row_set_subtitle (self->drivers_version_row,
                               media->version != NULL ? media->version : _("Unknown"));

  {
    g_autofree char *found = g_strjoinv (", ", media->present);
    g_autofree char *title = g_strdup_printf (_("Drivers Found for %s"),
                                              get_windows_name (self->install_media));

    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->drivers_found_row), title);
    adw_action_row_set_subtitle (self->drivers_found_row, found[0] != '\0' ? found : _("None"));
  }

  gtk_widget_set_visible (GTK_WIDGET (self->drivers_missing_row), media->missing[0] != NULL);
  if (media->missing[0] != NULL)
    {
      g_autofree char *missing = g_strjoinv (", ", media->missing);

      adw_action_row_set_subtitle (self->drivers_missing_row, missing);
    }

  adw_action_row_set_subtitle (self->drivers_tools_row,
                               media->has_guest_tools
                               ? _("virtio-win-guest-tools.exe: display agent, guest agent and drivers")
                               : _("Missing"));
}

static void
casement_wizard_drivers_checked (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(CasementDriverMedia) media = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  media = casement_media_check_drivers_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->checking_drivers = FALSE;

  if (media == NULL)
    self->drivers_problem = g_strdup (error->message);
  else
    self->drivers_media = g_steal_pointer (&media);

  casement_wizard_show_drivers (self);
  _casement_wizard_update (self);
  _casement_wizard_refocus (self);
}

/* The drivers are checked for the Windows on the other disc, so a new
 * Windows disc means a new check. */
void
_casement_wizard_check_drivers (CasementWizard *self)
{
  g_assert (CASEMENT_IS_WIZARD (self));

  g_cancellable_cancel (self->drivers_cancellable);
  g_clear_object (&self->drivers_cancellable);
  g_clear_pointer (&self->drivers_media, casement_driver_media_free);
  g_clear_pointer (&self->drivers_problem, g_free);
  self->checking_drivers = FALSE;

  if (self->drivers_file != NULL && self->install_media != NULL)
    {
      self->drivers_cancellable = g_cancellable_new ();
      self->checking_drivers = TRUE;
      casement_media_check_drivers_async (self->drivers_file, self->install_media->os_id,
                                          self->drivers_cancellable,
                                          casement_wizard_drivers_checked, g_object_ref (self));
    }

  casement_wizard_show_drivers (self);
}

/* ---- The shared folder -------------------------------------------------- */

/* How the folder would be shared, as the host decides for AUTO; NONE
 * without a usable folder or before the host is known. */
static CasementShareMethod
resolve_share (CasementWizard  *self,
               char           **reason)
{
  g_autoptr(CasementVmConfig) probe = NULL;
  g_autofree char *path = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (self->share_folder == NULL || self->share_problem != NULL || self->host == NULL)
    return CASEMENT_SHARE_METHOD_NONE;

  probe = casement_vm_config_new ("probe");
  path = g_file_get_path (self->share_folder);
  casement_vm_config_set_share_folder (probe, path);
  casement_vm_config_set_share_method (probe, CASEMENT_SHARE_METHOD_AUTO);
  casement_vm_config_set_share_read_only (probe, gtk_switch_get_active (self->share_read_only_switch));

  return casement_qemu_command_resolve_share (probe, self->host, reason);
}

/* virtiofs needs WinFsp in the guest, and the virtio-win disc lacks it. */
static gboolean
needs_winfsp (CasementWizard      *self,
              CasementShareMethod  method)
{
  g_assert (CASEMENT_IS_WIZARD (self));

  return method == CASEMENT_SHARE_METHOD_VIRTIOFS &&
         self->drivers_media != NULL && !self->drivers_media->has_winfsp;
}

/* The WinFsp row shows when the share needs an installer and none is
 * remembered, or the remembered one is gone; once shown, it stays, so
 * choosing a file does not make it vanish. */
static void
show_winfsp (CasementWizard *self,
             gboolean        needed)
{
  gboolean usable = self->winfsp_installer != NULL && self->winfsp_problem == NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  gtk_widget_set_visible (self->winfsp_group, needed && (!usable || self->winfsp_chosen));

  if (self->winfsp_installer != NULL)
    {
      g_autofree char *shown = g_file_get_parse_name (self->winfsp_installer);

      adw_action_row_set_subtitle (self->winfsp_row, shown);
    }
  else
    {
      adw_action_row_set_subtitle (self->winfsp_row, _("None"));
    }

  if (!needed || self->checking_winfsp)
    _casement_wizard_set_message (self->winfsp_note, NULL);
  else if (self->winfsp_problem != NULL)
    _casement_wizard_set_message (self->winfsp_note, self->winfsp_problem);
  else if (self->winfsp_installer == NULL)
    _casement_wizard_set_message (self->winfsp_note,
                                  _("Without WinFsp the shared folder does not appear in Windows until you "
                                    "install WinFsp there by hand."));
  else
    _casement_wizard_set_message (self->winfsp_note, NULL);
}

void
_casement_wizard_show_share (CasementWizard *self)
{
  g_autofree char *reason = NULL;
  CasementShareMethod method;

  g_assert (CASEMENT_IS_WIZARD (self));

  gtk_widget_set_sensitive (self->share_clear_button, self->share_folder != NULL);
  gtk_widget_set_sensitive (self->share_read_only_row, self->share_folder != NULL);
  _casement_wizard_set_message (self->share_error, self->share_problem);

  if (self->share_folder != NULL)
    {
      g_autofree char *shown = g_file_get_parse_name (self->share_folder);

      adw_action_row_set_subtitle (self->share_row, shown);
    }
  else
    {
      adw_action_row_set_subtitle (self->share_row, _("None"));
    }

  method = resolve_share (self, &reason);
  if (reason != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Shared through %s."), reason);

      _casement_wizard_set_message (self->share_method_label, text);
    }
  else
    {
      _casement_wizard_set_message (self->share_method_label, NULL);
    }

  show_winfsp (self, needs_winfsp (self, method));
}

void
_casement_wizard_winfsp_checked (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  info = g_file_query_info_finish (G_FILE (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->checking_winfsp = FALSE;
  shown = g_file_get_parse_name (G_FILE (object));

  if (info == NULL)
    self->winfsp_problem = g_strdup_printf (_("Cannot use the WinFsp installer “%s”: %s. Choose it again."),
                                            shown, error->message);
  else if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    self->winfsp_problem = g_strdup_printf (_("“%s” is not a file. Choose the winfsp-*.msi you downloaded."),
                                            shown);
  else if (!g_file_info_get_attribute_boolean (info, G_FILE_ATTRIBUTE_ACCESS_CAN_READ))
    self->winfsp_problem = g_strdup_printf (_("Casement may not read “%s”. Choose a copy you can read."),
                                            shown);
  else if (self->winfsp_chosen && self->settings != NULL)
    {
      g_autofree char *path = g_file_get_path (G_FILE (object));

      if (path != NULL)
        g_settings_set_string (self->settings, "winfsp-installer", path);
    }

  _casement_wizard_show_share (self);
  _casement_wizard_update (self);
}

void
_casement_wizard_share_checked (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  info = g_file_query_info_finish (G_FILE (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->checking_share = FALSE;
  shown = g_file_get_parse_name (G_FILE (object));

  if (info == NULL)
    self->share_problem = g_strdup_printf (_("Cannot share “%s”: %s. Choose another folder, or none."),
                                           shown, error->message);
  else if (g_file_info_get_file_type (info) != G_FILE_TYPE_DIRECTORY)
    self->share_problem = g_strdup_printf (_("“%s” is not a folder. Choose a folder, or none."), shown);

  _casement_wizard_show_share (self);
  _casement_wizard_update (self);
}

/* ---- Checks ------------------------------------------------------------- */

static char *
dup_install_media_problem (CasementWizard *self)
{
  if (self->install_file == NULL)
    return g_strdup (_("Choose a Windows installation ISO"));
  if (self->detecting_install)
    return g_strdup (_("Reading the disc…"));
  if (self->install_problem != NULL)
    return g_strdup (_("This file cannot be used: choose a Windows installation ISO"));

  return NULL;
}

static char *
dup_drivers_problem (CasementWizard *self)
{
  if (self->drivers_file == NULL)
    return g_strdup (_("Choose the virtio-win drivers ISO"));
  if (self->drivers_problem != NULL)
    return g_strdup (_("This file is not a virtio-win drivers disc: choose virtio-win.iso"));
  if (self->drivers_media == NULL)
    return g_strdup (_("Looking for the drivers on the disc…"));
  if (self->drivers_media->problem != NULL)
    return g_strdup (_("This virtio-win disc lacks drivers Windows needs: choose a newer one"));

  return NULL;
}

/* Each field's problem is shown on its row; the first one also next to
 * the Next button. */
static char *
dup_hardware_problem (CasementWizard *self)
{
  const CasementInstallMedia *media = self->install_media;
  const char *windows = media != NULL ? get_windows_name (media) : _("Windows");
  g_autofree char *name = g_strstrip (g_strdup (_casement_wizard_get_text (self->name_row)));
  g_autofree char *name_problem = NULL;
  g_autofree char *memory_problem = NULL;
  g_autofree char *disk_problem = NULL;
  g_autofree char *cpus_problem = NULL;
  guint cpus = gtk_spin_button_get_value_as_int (self->cpus_spin);
  guint64 memory = 0;
  guint64 disk = 0;

  if (name[0] == '\0')
    name_problem = g_strdup (_("Enter a name for the virtual machine"));
  else if (!config_accepts (casement_vm_config_set_name, name))
    name_problem = g_strdup (_("The name must be one line of text, without control characters"));
  else if (self->checking_name || g_strcmp0 (self->name_checked, name) != 0)
    name_problem = g_strdup (_("Checking the name…"));
  else if (self->name_taken)
    name_problem = g_strdup_printf (_("A virtual machine called “%s” already exists: choose another name"),
                                    name);

  if (media != NULL && cpus < media->min_cpus)
    cpus_problem = g_strdup_printf (ngettext ("%s needs at least %u processor",
                                              "%s needs at least %u processors", media->min_cpus),
                                    windows, media->min_cpus);

  if (!parse_size_field (self->memory_row, &memory))
    {
      memory_problem = g_strdup (_("Enter the memory as a size, such as “8 GiB”"));
    }
  else if (media != NULL && memory < media->min_ram)
    {
      g_autofree char *min = dup_size (media->min_ram);

      memory_problem = g_strdup_printf (_("%s needs at least %s of memory"), windows, min);
    }
  else if (self->host != NULL && memory > casement_host_get_memory_mib (self->host) * MIB)
    {
      g_autofree char *host = dup_size (casement_host_get_memory_mib (self->host) * MIB);

      memory_problem = g_strdup_printf (_("This computer has only %s of memory: give the virtual machine less"),
                                        host);
    }

  if (!parse_size_field (self->disk_row, &disk))
    {
      disk_problem = g_strdup (_("Enter the disk size as a size, such as “64 GiB”"));
    }
  else if (media != NULL && disk < media->min_storage)
    {
      g_autofree char *min = dup_size (media->min_storage);

      disk_problem = g_strdup_printf (_("%s needs a disk of at least %s"), windows, min);
    }

  set_field_problem (self->name_row, self->name_icon,
                     self->checking_name ? NULL : name_problem);
  set_field_problem (self->memory_row, self->memory_icon, memory_problem);
  set_field_problem (self->disk_row, self->disk_icon, disk_problem);
  if (cpus_problem != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->cpus_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->cpus_row), "error");

  if (self->host_problem != NULL)
    return g_strdup (self->host_problem);
  if (self->host == NULL)
    return g_strdup (_("Checking this computer…"));
  if (name_problem != NULL)
    return g_steal_pointer (&name_problem);
  if (cpus_problem != NULL)
    return g_steal_pointer (&cpus_problem);
  if (memory_problem != NULL)
    return g_steal_pointer (&memory_problem);
  if (disk_problem != NULL)
    return g_steal_pointer (&disk_problem);

  return NULL;
}

static char *
dup_share_problem (CasementWizard *self)
{
  if (self->checking_share)
    return g_strdup (_("Checking the folder…"));
  if (self->share_problem != NULL)
    return g_strdup (_("This folder cannot be shared: choose another, or none"));

  return NULL;
}

static char *
dup_install_problem (CasementWizard *self)
{
  g_autofree char *user = g_strstrip (g_strdup (_casement_wizard_get_text (self->user_row)));
  g_autofree char *computer = g_strstrip (g_strdup (_casement_wizard_get_text (self->computer_row)));
  g_autofree char *key = g_strstrip (g_ascii_strup (_casement_wizard_get_text (self->product_key_row), -1));
  g_autofree char *user_problem = NULL;
  g_autofree char *confirm_problem = NULL;
  g_autofree char *computer_problem = NULL;
  g_autofree char *key_problem = NULL;
  g_autoptr(GError) error = NULL;
  gboolean express = gtk_switch_get_active (self->express_switch);

  if (express)
    {
      if (user[0] == '\0')
        user_problem = g_strdup (_("Enter a user name for Windows"));
      else if (!casement_unattend_check_user_name (user, &error))
        user_problem = g_strdup (error->message);
      g_clear_error (&error);

      if (!g_str_equal (_casement_wizard_get_text (self->password_row),
                        _casement_wizard_get_text (self->confirm_row)))
        confirm_problem = g_strdup (_("The passwords do not match"));

      if (computer[0] == '\0')
        computer_problem = g_strdup (_("Enter a computer name for Windows"));
      else if (!casement_unattend_check_computer_name (computer, &error))
        computer_problem = g_strdup (error->message);
      g_clear_error (&error);

      if (key[0] != '\0' && !config_accepts (casement_vm_config_set_product_key, key))
        key_problem = g_strdup (_("A product key looks like XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"));
    }

  set_field_problem (self->user_row, self->user_icon, user_problem);
  set_field_problem (self->confirm_row, self->confirm_icon, confirm_problem);
  set_field_problem (self->computer_row, self->computer_icon, computer_problem);
  set_field_problem (self->product_key_row, self->product_key_icon, key_problem);

  if (user_problem != NULL)
    return g_steal_pointer (&user_problem);
  if (confirm_problem != NULL)
    return g_steal_pointer (&confirm_problem);
  if (computer_problem != NULL)
    return g_steal_pointer (&computer_problem);
  if (key_problem != NULL)
    return g_steal_pointer (&key_problem);

  return NULL;
}

/* The settings of the new VM, from every page. The password is not part
 * of them: it goes onto the answer medium only. */
CasementVmConfig *
_casement_wizard_build_config (CasementWizard *self)
{
  g_autofree char *name = g_strstrip (g_strdup (_casement_wizard_get_text (self->name_row)));
  g_autoptr(CasementVmConfig) config = casement_vm_config_new (name);
  guint64 memory = 0;
  guint64 disk = 0;

  g_assert (CASEMENT_IS_WIZARD (self));
  g_assert (self->install_media != NULL);

  casement_vm_config_set_os_id (config, self->install_media->os_id);
  casement_vm_config_set_cpus (config, gtk_spin_button_get_value_as_int (self->cpus_spin));
  if (parse_size_field (self->memory_row, &memory))
    casement_vm_config_set_memory_mib (config, memory / MIB);
  if (parse_size_field (self->disk_row, &disk))
    casement_vm_config_set_disk_size (config, disk);

  casement_vm_config_set_install_iso (config, self->install_media->path);
  if (self->drivers_media != NULL)
    casement_vm_config_set_drivers_iso (config, self->drivers_media->path);

  if (self->share_folder != NULL)
    {
      g_autofree char *path = g_file_get_path (self->share_folder);

      casement_vm_config_set_share_folder (config, path);
      casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_AUTO);
      casement_vm_config_set_share_read_only (config, gtk_switch_get_active (self->share_read_only_switch));
    }

  /* The answer medium carries the installer; nothing is copied. */
  if (gtk_switch_get_active (self->express_switch) && self->winfsp_installer != NULL &&
      self->winfsp_problem == NULL && !self->checking_winfsp &&
      needs_winfsp (self, resolve_share (self, NULL)))
    {
      g_autofree char *path = g_file_get_path (self->winfsp_installer);

      casement_vm_config_set_winfsp_installer (config, path);
    }

  /* Windows 11 needs both; with the Microsoft-keys firmware and swtpm, any
   * Windows 10 or later runs with them too. */
  casement_vm_config_set_tpm (config, TRUE);
  casement_vm_config_set_secure_boot (config, TRUE);

  casement_vm_config_set_express_install (config, gtk_switch_get_active (self->express_switch));
  if (gtk_switch_get_active (self->express_switch))
    {
      g_autofree char *user = g_strstrip (g_strdup (_casement_wizard_get_text (self->user_row)));
      g_autofree char *computer = g_strstrip (g_strdup (_casement_wizard_get_text (self->computer_row)));
      g_autofree char *key = g_strstrip (g_ascii_strup (_casement_wizard_get_text (self->product_key_row), -1));

      casement_vm_config_set_user_name (config, user);
      casement_vm_config_set_computer_name (config, computer);
      casement_vm_config_set_language (config, get_selected_language (self));
      casement_vm_config_set_keyboard (config, get_selected_keyboard (self));
      casement_vm_config_set_product_key (config, key);
    }

  return g_steal_pointer (&config);
}

static void
get_unattend_options (CasementWizard          *self,
                      CasementUnattendOptions *options)
{
  const CasementWindowsImage *image = get_selected_image (self);

  g_assert (CASEMENT_IS_WIZARD (self));
  g_assert (self->install_media != NULL);

  memset (options, 0, sizeof *options);
  options->media_language = self->install_media->language;
  if (image != NULL)
    {
      options->image_index = image->index;
      options->edition_id = image->edition_id;
    }
}

/* The answer file, built with every answer checked. The password is read
 * from its field here and goes nowhere but into the file. */
char *
_casement_wizard_build_answers (CasementWizard    *self,
                                CasementVmConfig  *config,
                                GError           **error)
{
  CasementUnattendOptions options;

  g_assert (CASEMENT_IS_WIZARD (self));

  get_unattend_options (self, &options);
  return casement_unattend_build (config, _casement_wizard_get_text (self->password_row), &options, error);
}

/* What stops Create beyond the pages' own checks: the host pieces this
 * VM cannot run without, the config's checks across fields and, for an
 * express install, the answer file's. Only asked on the summary page. */
static char *
dup_summary_problem (CasementWizard *self)
{
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  if (self->host == NULL || self->install_media == NULL || self->page != CASEMENT_WIZARD_PAGE_SUMMARY)
    return NULL;

  if (casement_host_get_swtpm_path (self->host) == NULL)
    return g_strdup (_("The TPM emulator swtpm is not installed: install the swtpm package"));
  if (casement_host_get_firmware_code (self->host, TRUE) == NULL ||
      casement_host_get_firmware_vars (self->host, TRUE) == NULL)
    return g_strdup (_("No UEFI firmware with Secure Boot was found: install the ovmf package"));

  config = _casement_wizard_build_config (self);
  if (!casement_vm_config_validate (config, &error))
    return g_strdup (error->message);

  if (casement_vm_config_get_express_install (config))
    {
      g_autofree char *xml = _casement_wizard_build_answers (self, config, &error);

      if (xml == NULL)
        return g_strdup_printf (_("Express install cannot go ahead: %s"), error->message);
    }

  return NULL;
}

static void
casement_wizard_show_summary (CasementWizard *self)
{
  g_autofree char *windows = NULL;
  g_autofree char *drivers = NULL;
  g_autofree char *resources = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *share = NULL;
  g_autofree char *install = NULL;
  g_autofree char *memory_text = NULL;
  g_autofree char *disk_text = NULL;
  g_auto(GStrv) host_problems = NULL;
  const CasementWindowsImage *image;
  guint64 memory = 0;
  guint64 disk_size = 0;
  guint cpus;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (self->install_media == NULL)
    return;

  image = get_selected_image (self);
  if (image != NULL)
    windows = g_strdup_printf ("%s · %s", self->install_media->name, image->name);
  else
    windows = g_strdup (self->install_media->name);
  adw_action_row_set_subtitle (self->summary_windows_row, windows);

  if (self->drivers_media != NULL)
    drivers = g_strdup_printf (_("virtio-win %s"),
                               self->drivers_media->version != NULL ? self->drivers_media->version : "");
  adw_action_row_set_subtitle (self->summary_drivers_row, drivers);

  adw_action_row_set_subtitle (self->summary_name_row, _casement_wizard_get_text (self->name_row));

  cpus = gtk_spin_button_get_value_as_int (self->cpus_spin);
  if (parse_size_field (self->memory_row, &memory))
    memory_text = dup_size (memory);
  resources = g_strdup_printf (ngettext ("%u processor, %s of memory", "%u processors, %s of memory", cpus),
                               cpus, memory_text != NULL ? memory_text : "?");
  adw_action_row_set_subtitle (self->summary_resources_row, resources);

  if (parse_size_field (self->disk_row, &disk_size))
    disk_text = dup_size (disk_size);
  if (self->free_space_known && disk_size > self->free_space)
    {
      g_autofree char *free_space = dup_size (self->free_space);

      disk = g_strdup_printf (_("%s, growing as Windows uses it: more than the %s free now"),
                              disk_text, free_space);
    }
  else
    {
      disk = g_strdup_printf (_("%s, growing as Windows uses it"), disk_text != NULL ? disk_text : "?");
    }
  adw_action_row_set_subtitle (self->summary_disk_row, disk);

  if (self->share_folder != NULL && self->host != NULL)
    {
      g_autoptr(CasementVmConfig) probe = casement_vm_config_new ("probe");
      g_autofree char *shown = g_file_get_parse_name (self->share_folder);
      g_autofree char *path = g_file_get_path (self->share_folder);
      gboolean read_only = gtk_switch_get_active (self->share_read_only_switch);
      const char *method;

      casement_vm_config_set_share_folder (probe, path);
      casement_vm_config_set_share_method (probe, CASEMENT_SHARE_METHOD_AUTO);
      casement_vm_config_set_share_read_only (probe, read_only);
      switch (casement_qemu_command_resolve_share (probe, self->host, NULL))
        {
        case CASEMENT_SHARE_METHOD_VIRTIOFS:
          method = "virtiofs";
          break;
        case CASEMENT_SHARE_METHOD_SMB:
          method = "SMB";
          break;
        case CASEMENT_SHARE_METHOD_WEBDAV:
          method = "SPICE WebDAV";
          break;
        case CASEMENT_SHARE_METHOD_NONE:
        case CASEMENT_SHARE_METHOD_AUTO:
        default:
          method = "?";
          break;
        }

      share = g_strdup_printf (read_only ? _("%s (read only, through %s)") : _("%s (through %s)"),
                               shown, method);
    }
  adw_action_row_set_subtitle (self->summary_share_row, share != NULL ? share : _("None"));

  if (gtk_switch_get_active (self->express_switch))
    {
      const char *language = get_selected_language (self);
      const char *media_language = self->install_media->language;
      GtkStringObject *keyboard = adw_combo_row_get_selected_item (self->keyboard_row);
      GtkStringObject *language_name = adw_combo_row_get_selected_item (self->language_row);

      install = g_strdup_printf (_("Express: user %s on computer %s; formats %s, keyboard %s"),
                                 _casement_wizard_get_text (self->user_row),
                                 _casement_wizard_get_text (self->computer_row),
                                 language_name != NULL ? gtk_string_object_get_string (language_name) : "",
                                 keyboard != NULL ? gtk_string_object_get_string (keyboard) : "");

      /* Setup only speaks the languages on its disc. */
      if (media_language != NULL && language != NULL &&
          g_ascii_strcasecmp (media_language, language) != 0)
        {
          g_autofree char *with_note = g_strdup_printf (_("%s. Windows itself is in %s, the disc’s language."),
                                                        install, media_language);

          g_free (install);
          install = g_steal_pointer (&with_note);
        }
    }
  else
    {
      install = g_strdup (_("Manual: you answer Windows Setup’s questions and load the drivers"));
    }
  adw_action_row_set_subtitle (self->summary_install_row, install);

  adw_action_row_set_subtitle (self->summary_security_row,
                               is_windows_11 (self)
                               ? _("On. Windows 11 requires both, and Casement provides them "
                                   "(swtpm and UEFI firmware with Microsoft’s keys), so Setup needs no "
                                   "registry bypass.")
                               : _("On. Windows runs well with them, and they keep the way open "
                                   "to Windows 11."));

  if (self->host != NULL)
    {
      g_autofree char *text = NULL;

      host_problems = casement_host_dup_problems (self->host);
      text = g_strjoinv ("\n", host_problems);
      _casement_wizard_set_message (self->summary_host, text);
    }
}

static void
casement_wizard_show_notes (CasementWizard *self)
{
  const CasementInstallMedia *media = self->install_media;
  g_autoptr(GString) resources = g_string_new (NULL);
  g_autoptr(GString) disk = g_string_new (NULL);
  guint64 size = 0;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (self->host != NULL)
    {
      g_autofree char *ram = dup_size (casement_host_get_memory_mib (self->host) * MIB);
      guint threads = casement_host_get_cpu_threads (self->host);

      g_string_append_printf (resources,
                              ngettext ("This computer has %u processor thread and %s of memory.",
                                        "This computer has %u processor threads and %s of memory.",
                                        threads),
                              threads, ram);
    }

  if (media != NULL && media->recommended_ram != 0)
    {
      g_autofree char *ram = dup_size (media->recommended_ram);

      if (resources->len > 0)
        g_string_append_c (resources, ' ');
      g_string_append_printf (resources, _("%s runs best with %s of memory."),
                              get_windows_name (media), ram);
    }
  _casement_wizard_set_message (self->resources_note, resources->str);

  if (!parse_size_field (self->disk_row, &size))
    size = 0;

  if (size != 0)
    {
      g_autofree char *text = dup_size (size);

      g_string_append_printf (disk, _("The disk file grows as Windows uses it: it takes little space "
                                      "at first, and at most %s."), text);
    }
  else
    {
      g_string_append (disk, _("The disk file grows as Windows uses it: it takes little space "
                               "at first, and at most the size chosen here."));
    }

  /* Sparse: more than is free works until Windows fills it, so this is
   * said, not refused. */
  if (self->free_space_known && size > self->free_space)
    {
      g_autofree char *free_space = dup_size (self->free_space);

      g_string_append_c (disk, ' ');
      g_string_append_printf (disk, _("Only %s are free in %s: make room before Windows fills "
                                      "the disk, or the virtual machine stops when the space runs out."),
                              free_space, self->space_path);
      gtk_widget_remove_css_class (GTK_WIDGET (self->disk_note), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (self->disk_note), "warning");
    }
  else
    {
      if (self->free_space_known)
        {
          g_autofree char *free_space = dup_size (self->free_space);

          g_string_append_c (disk, ' ');
          g_string_append_printf (disk, _("%s are free in %s."), free_space, self->space_path);
        }
      gtk_widget_remove_css_class (GTK_WIDGET (self->disk_note), "warning");
      gtk_widget_add_css_class (GTK_WIDGET (self->disk_note), "dim-label");
    }
  _casement_wizard_set_message (self->disk_note, disk->str);
}

static char *
dup_page_problem (CasementWizard     *self,
                  CasementWizardPage  page)
{
  switch (page)
    {
    case CASEMENT_WIZARD_PAGE_INSTALL_MEDIA:
      return dup_install_media_problem (self);
    case CASEMENT_WIZARD_PAGE_DRIVERS:
      return dup_drivers_problem (self);
    case CASEMENT_WIZARD_PAGE_HARDWARE:
      return dup_hardware_problem (self);
    case CASEMENT_WIZARD_PAGE_SHARE:
      return dup_share_problem (self);
    case CASEMENT_WIZARD_PAGE_INSTALL:
      return dup_install_problem (self);
    case CASEMENT_WIZARD_PAGE_SUMMARY:
      return dup_summary_problem (self);
    case CASEMENT_WIZARD_PAGE_PROGRESS:
    default:
      return NULL;
    }
}

/* Recomputes every page's checks and what the buttons may do. */
void
_casement_wizard_update (CasementWizard *self)
{
  char *page_problems[N_EDIT_PAGES] = { NULL, };
  g_autofree char *subtitle = NULL;
  gboolean editing;
  gboolean express;
  char *blocker = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  /* Fields being torn down with the window still notify. */
  if (self->disposed)
    return;

  editing = self->state == CASEMENT_WIZARD_STATE_EDITING;
  express = gtk_switch_get_active (self->express_switch);

  for (guint i = 0; i < N_EDIT_PAGES; i++)
    page_problems[i] = dup_page_problem (self, i);

  /* Going on from a page needs it and every page before it in order:
   * a disc changed on page 1 must not leave the summary reachable. */
  if (editing)
    {
      for (guint i = 0; i <= MIN (self->page, N_EDIT_PAGES - 1) && blocker == NULL; i++)
        if (page_problems[i] != NULL)
          blocker = i == self->page ? g_strdup (page_problems[i])
                                    : g_strdup_printf (_("Go back to step %u: %s"), i + 1, page_problems[i]);
    }

  for (guint i = 0; i < N_EDIT_PAGES; i++)
    g_free (page_problems[i]);

  g_free (self->blocker);
  self->blocker = blocker;

  casement_wizard_show_notes (self);
  _casement_wizard_show_share (self);
  casement_wizard_show_summary (self);

  gtk_widget_set_visible (self->account_group, express);
  gtk_widget_set_visible (self->locale_group, express);
  gtk_widget_set_visible (self->key_group, express);
  gtk_widget_set_visible (GTK_WIDGET (self->manual_label), !express);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.next",
                                 editing && self->blocker == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.back",
                                 (editing && self->page > 0) ||
                                 self->state == CASEMENT_WIZARD_STATE_FAILED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.retry",
                                 self->state == CASEMENT_WIZARD_STATE_FAILED ||
                                 self->state == CASEMENT_WIZARD_STATE_START_FAILED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.open",
                                 self->state == CASEMENT_WIZARD_STATE_START_FAILED);

  /* Kept in place when empty: it holds Next at the right. */
  gtk_label_set_text (self->next_reason, self->blocker != NULL ? self->blocker : "");
  gtk_widget_set_tooltip_text (self->next_button, self->blocker);
  gtk_button_set_label (GTK_BUTTON (self->next_button),
                        self->page == CASEMENT_WIZARD_PAGE_SUMMARY ? _("_Create") : _("_Next"));
  gtk_widget_set_visible (self->nav_bar, self->page != CASEMENT_WIZARD_PAGE_PROGRESS);
  gtk_button_set_label (GTK_BUTTON (self->cancel_button),
                        self->state == CASEMENT_WIZARD_STATE_START_FAILED ? _("_Close") : _("_Cancel"));
  gtk_widget_set_visible (self->back_button, self->page > 0);

  if (self->page < N_EDIT_PAGES)
    subtitle = g_strdup_printf (_("Step %u of %u"), self->page + 1, N_EDIT_PAGES);
  adw_window_title_set_subtitle (self->window_title, subtitle);
}


void
_casement_wizard_setup_locale (CasementWizard *self)
{
  g_autoptr(GtkStringList) language_names = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) keyboard_names = gtk_string_list_new (NULL);
  g_autofree char *host_language = dup_host_language ();
  const char *keyboard = "0409:00000409";
  guint language_index = G_MAXUINT;

  g_assert (CASEMENT_IS_WIZARD (self));

  for (guint i = 0; i < G_N_ELEMENTS (languages); i++)
    {
      gtk_string_list_append (language_names, _(languages[i].name));
      if (g_ascii_strcasecmp (languages[i].tag, host_language) == 0)
        {
          language_index = i;
          keyboard = languages[i].keyboard;
        }
    }

  /* A language the table lacks is still the user's: offered as its tag. */
  if (language_index == G_MAXUINT)
    {
      gtk_string_list_append (language_names, host_language);
      language_index = G_N_ELEMENTS (languages);
      self->host_language = g_strdup (host_language);
    }

  for (guint i = 0; i < G_N_ELEMENTS (keyboards); i++)
    gtk_string_list_append (keyboard_names, _(keyboards[i].name));

  adw_combo_row_set_model (self->language_row, G_LIST_MODEL (language_names));
  adw_combo_row_set_selected (self->language_row, language_index);
  adw_combo_row_set_model (self->keyboard_row, G_LIST_MODEL (keyboard_names));
  for (guint i = 0; i < G_N_ELEMENTS (keyboards); i++)
    if (g_str_equal (keyboards[i].id, keyboard))
      adw_combo_row_set_selected (self->keyboard_row, i);
}
