/* test-unattend.c
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

#include <glib.h>
#include <glib/gstdio.h>
#include <osinfo/osinfo.h>

#include "casement-iso.h"
#include "casement-media.h"
#include "casement-unattend.h"
#include "casement-vm-config.h"

/* Golden files live in tests/data/unattend; run with
 * CASEMENT_UPDATE_GOLDEN=1 to rewrite them after an intended change, and
 * read the diff. */

static char *tmp_root;

static gboolean
have_program (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);

  return path != NULL;
}

/* ---- Reading the XML back with GMarkup --------------------------------- */

typedef struct
{
  GPtrArray  *stack;     /* element names */
  GHashTable *values;    /* "pass/component/…/Element" → GPtrArray of texts */
  char       *pass;
  char       *component;
} Reader;

static char *
reader_path (Reader *reader)
{
  g_autoptr(GString) path = g_string_new (reader->pass ? reader->pass : "");

  if (reader->component != NULL)
    g_string_append_printf (path, "/%s", reader->component);

  /* Skip unattend, settings and component themselves */
  for (guint i = 3; i < reader->stack->len; i++)
    g_string_append_printf (path, "/%s", (char *) g_ptr_array_index (reader->stack, i));

  return g_string_free (g_steal_pointer (&path), FALSE);
}

static void
reader_start (GMarkupParseContext  *context,
              const char           *element_name,
              const char          **attribute_names,
              const char          **attribute_values,
              gpointer              user_data,
              GError              **error)
{
  Reader *reader = user_data;

  g_ptr_array_add (reader->stack, g_strdup (element_name));

  for (guint i = 0; attribute_names[i] != NULL; i++)
    {
      if (g_str_equal (element_name, "settings") && g_str_equal (attribute_names[i], "pass"))
        {
          g_free (reader->pass);
          reader->pass = g_strdup (attribute_values[i]);
        }
      if (g_str_equal (element_name, "component") && g_str_equal (attribute_names[i], "name"))
        {
          g_free (reader->component);
          reader->component = g_strdup (attribute_values[i]);
        }
    }
}

static void
reader_end (GMarkupParseContext  *context,
            const char           *element_name,
            gpointer              user_data,
            GError              **error)
{
  Reader *reader = user_data;

  if (g_str_equal (element_name, "component"))
    g_clear_pointer (&reader->component, g_free);
  if (g_str_equal (element_name, "settings"))
    g_clear_pointer (&reader->pass, g_free);

  g_ptr_array_remove_index (reader->stack, reader->stack->len - 1);
}

static void
reader_text (GMarkupParseContext  *context,
             const char           *text,
             gsize                 text_len,
             gpointer              user_data,
             GError              **error)
{
  Reader *reader = user_data;
  g_autofree char *path = NULL;
  GPtrArray *list;

  if (reader->stack->len < 4)
    return;

  path = reader_path (reader);
  if (!(list = g_hash_table_lookup (reader->values, path)))
    {
      list = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (reader->values, g_strdup (path), list);
    }
  g_ptr_array_add (list, g_strndup (text, text_len));
}

/* Parses @xml strictly and returns "pass/component/path" → texts. */
static GHashTable *
parse_answers (const char *xml)
{
  static const GMarkupParser parser = { reader_start, reader_end, reader_text, NULL, NULL };
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) error = NULL;
  Reader reader = { 0, };

  reader.stack = g_ptr_array_new_with_free_func (g_free);
  reader.values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);

  context = g_markup_parse_context_new (&parser, 0, &reader, NULL);
  g_markup_parse_context_parse (context, xml, -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (context, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (reader.stack->len, ==, 0);
  g_ptr_array_unref (reader.stack);

  return reader.values;
}

static const char *
answer (GHashTable *answers,
        const char *path)
{
  GPtrArray *list = g_hash_table_lookup (answers, path);

  if (list == NULL)
    return NULL;

  g_assert_cmpuint (list->len, ==, 1);
  return g_ptr_array_index (list, 0);
}

static GPtrArray *
answers_all (GHashTable *answers,
             const char *path)
{
  return g_hash_table_lookup (answers, path);
}

/* ---- Fixtures ---------------------------------------------------------- */

static CasementVmConfig *
make_config (const char *os_id)
{
  CasementVmConfig *config = casement_vm_config_new ("Work PC");

  casement_vm_config_set_os_id (config, os_id);
  casement_vm_config_set_user_name (config, "zoe");
  casement_vm_config_set_computer_name (config, "ZOE-PC");
  casement_vm_config_set_language (config, "en-US");
  casement_vm_config_set_keyboard (config, "0409:00000409");

  return config;
}

static char *
build (CasementVmConfig              *config,
       const char                    *password,
       const CasementUnattendOptions *options)
{
  g_autoptr(GError) error = NULL;
  char *xml = casement_unattend_build (config, password, options, &error);

  g_assert_no_error (error);
  g_assert_nonnull (xml);
  return xml;
}

static void
assert_golden (const char *xml,
               const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "unattend", name, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;

  if (g_getenv ("CASEMENT_UPDATE_GOLDEN") != NULL)
    {
      g_file_set_contents (path, xml, -1, &error);
      g_assert_no_error (error);
    }

  g_file_get_contents (path, &expected, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (xml, ==, expected);
}

/* The password as Windows reads the obfuscated form back. */
static char *
decode_password (const char *value)
{
  g_autofree guchar *raw = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;

  raw = g_base64_decode (value, &len);
  text = g_convert ((const char *) raw, len, "UTF-8", "UTF-16LE", NULL, NULL, NULL);
  g_assert_nonnull (text);
  g_assert_true (g_str_has_suffix (text, "Password"));
  text[strlen (text) - strlen ("Password")] = '\0';

  return g_steal_pointer (&text);
}

#define PE_SETUP   "windowsPE/Microsoft-Windows-Setup"
#define PE_INTL    "windowsPE/Microsoft-Windows-International-Core-WinPE"
#define PE_PNP     "windowsPE/Microsoft-Windows-PnpCustomizationsWinPE"
#define OOBE_SHELL "oobeSystem/Microsoft-Windows-Shell-Setup"

static void
assert_commands_contain (GHashTable *answers,
                         const char *needle,
                         gboolean    present)
{
  GPtrArray *commands = answers_all (answers, OOBE_SHELL "/FirstLogonCommands/SynchronousCommand/CommandLine");
  gboolean found = FALSE;

  for (guint i = 0; i < commands->len; i++)
    if (strstr (g_ptr_array_index (commands, i), needle) != NULL)
      found = TRUE;

  if (found != present)
    g_error ("“%s” is %s the first-logon commands", needle, present ? "missing from" : "in");
}

/* The position of the first first-logon command containing @needle. */
static guint
command_index (GHashTable *answers,
               const char *needle)
{
  GPtrArray *commands = answers_all (answers, OOBE_SHELL "/FirstLogonCommands/SynchronousCommand/CommandLine");

  for (guint i = 0; i < commands->len; i++)
    if (strstr (g_ptr_array_index (commands, i), needle) != NULL)
      return i;

  g_error ("“%s” is missing from the first-logon commands", needle);
}

/* ---- Tests ------------------------------------------------------------- */

static void
test_unattend_win11 (void)
{
  g_autoptr(CasementVmConfig) config = make_config ("win11");
  g_autoptr(GHashTable) answers = NULL;
  g_autofree char *xml = NULL;
  CasementUnattendOptions options = { .media_language = "en-US", .time_zone = "Europe/Berlin" };
  const char * const *drivers = casement_media_get_required_drivers ();
  GPtrArray *paths;
  GPtrArray *orders;

  xml = build (config, "correct horse", &options);
  assert_golden (xml, "win11.xml");

  answers = parse_answers (xml);

  /* Every pass, and what each must hold */
  g_assert_cmpstr (answer (answers, PE_INTL "/SetupUILanguage/UILanguage"), ==, "en-US");
  g_assert_cmpstr (answer (answers, PE_INTL "/InputLocale"), ==, "0409:00000409");
  g_assert_cmpstr (answer (answers, PE_SETUP "/DiskConfiguration/Disk/DiskID"), ==, "0");
  g_assert_cmpstr (answer (answers, PE_SETUP "/DiskConfiguration/Disk/WillWipeDisk"), ==, "true");
  g_assert_cmpstr (answer (answers, PE_SETUP "/ImageInstall/OSImage/InstallTo/PartitionID"), ==, "3");
  g_assert_null (answer (answers, PE_SETUP "/ImageInstall/OSImage/InstallFrom/MetaData/Value"));
  g_assert_cmpstr (answer (answers, PE_SETUP "/UserData/AcceptEula"), ==, "true");
  g_assert_cmpstr (answer (answers, PE_SETUP "/UserData/ProductKey/Key"), ==, "W269N-WFGWX-YVC9B-4J6C9-T83GX");
  g_assert_cmpstr (answer (answers, "specialize/Microsoft-Windows-Shell-Setup/ComputerName"), ==, "ZOE-PC");
  g_assert_cmpstr (answer (answers, "specialize/Microsoft-Windows-Shell-Setup/TimeZone"), ==, "W. Europe Standard Time");
  g_assert_nonnull (strstr (answer (answers, "specialize/Microsoft-Windows-Deployment/RunSynchronous/RunSynchronousCommand/Path"),
                            "BypassNRO"));
  g_assert_cmpstr (answer (answers, "oobeSystem/Microsoft-Windows-International-Core/UserLocale"), ==, "en-US");
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/OOBE/HideEULAPage"), ==, "true");
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/OOBE/HideOnlineAccountScreens"), ==, "true");
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/OOBE/HideWirelessSetupInOOBE"), ==, "true");
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/OOBE/ProtectYourPC"), ==, "3");
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/UserAccounts/LocalAccounts/LocalAccount/Name"), ==, "zoe");
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/UserAccounts/LocalAccounts/LocalAccount/Group"), ==, "Administrators");
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/AutoLogon/Enabled"), ==, "true");
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/AutoLogon/LogonCount"), ==, "1");
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/AutoLogon/Username"), ==, "zoe");

  /* Each driver on each letter a CD can get, for Windows 11; qxldod also
   * in w10, which virtio-win ships it under. */
  paths = answers_all (answers, PE_PNP "/DriverPaths/PathAndCredentials/Path");
  g_assert_nonnull (paths);
  for (const char *letter = "CDEFGH"; *letter; letter++)
    for (guint d = 0; drivers[d] != NULL; d++)
      {
        g_autofree char *path = g_strdup_printf ("%c:\\%s\\w11\\amd64", *letter, drivers[d]);

        g_assert_true (g_ptr_array_find_with_equal_func (paths, path, g_str_equal, NULL));
      }
  g_assert_true (g_ptr_array_find_with_equal_func (paths, "E:\\qxldod\\w10\\amd64", g_str_equal, NULL));
  g_assert_false (g_ptr_array_find_with_equal_func (paths, "E:\\viostor\\w10\\amd64", g_str_equal, NULL));
  g_assert_cmpuint (paths->len, ==, 6 * 7);

  /* Guest tools first, the marker last, nothing for a share */
  orders = answers_all (answers, OOBE_SHELL "/FirstLogonCommands/SynchronousCommand/Order");
  g_assert_cmpstr (g_ptr_array_index (orders, 0), ==, "1");
  assert_commands_contain (answers, "virtio-win-guest-tools.exe /install /passive /norestart", TRUE);
  assert_commands_contain (answers, CASEMENT_UNATTEND_DONE_MARKER, TRUE);
  assert_commands_contain (answers, "VirtioFsSvc", FALSE);
  assert_commands_contain (answers, "net use", FALSE);
  {
    GPtrArray *commands = answers_all (answers, OOBE_SHELL "/FirstLogonCommands/SynchronousCommand/CommandLine");

    g_assert_nonnull (strstr (g_ptr_array_index (commands, 0), "virtio-win-guest-tools.exe"));
    g_assert_nonnull (strstr (g_ptr_array_index (commands, commands->len - 1), CASEMENT_UNATTEND_DONE_MARKER));
    g_assert_cmpuint (orders->len, ==, commands->len);
  }

  /* TPM and Secure Boot are real: no bypass of Windows 11's checks */
  g_assert_null (strstr (xml, "LabConfig"));
  g_assert_null (strstr (xml, "BypassTPMCheck"));
  g_assert_null (strstr (xml, "BypassSecureBootCheck"));

  /* The password only in its obfuscated form */
  g_assert_null (strstr (xml, "correct horse"));
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/UserAccounts/LocalAccounts/LocalAccount/Password/PlainText"), ==, "false");
  {
    g_autofree char *account = decode_password (answer (answers, OOBE_SHELL "/UserAccounts/LocalAccounts/LocalAccount/Password/Value"));
    g_autofree char *autologon = decode_password (answer (answers, OOBE_SHELL "/AutoLogon/Password/Value"));

    g_assert_cmpstr (account, ==, "correct horse");
    g_assert_cmpstr (autologon, ==, "correct horse");
  }
}

static void
test_unattend_win10 (void)
{
  g_autoptr(CasementVmConfig) config = make_config ("win10");
  g_autoptr(GHashTable) answers = NULL;
  g_autofree char *xml = NULL;
  CasementUnattendOptions options = {
    .media_language = "en-US",
    .image_index = 6,
    .edition_id = "Professional",
    .time_zone = "America/New_York",
    .recovery_partition = TRUE,
  };
  GPtrArray *paths;

  /* A German user on an English disc: Setup speaks English, Windows
   * formats dates the German way and types on a German keyboard. */
  casement_vm_config_set_language (config, "de-DE");
  casement_vm_config_set_keyboard (config, "0407:00000407");

  xml = build (config, "hunter2", &options);
  assert_golden (xml, "win10.xml");
  answers = parse_answers (xml);

  g_assert_cmpstr (answer (answers, PE_INTL "/SetupUILanguage/UILanguage"), ==, "en-US");
  g_assert_cmpstr (answer (answers, PE_INTL "/UILanguage"), ==, "en-US");
  g_assert_cmpstr (answer (answers, PE_INTL "/SystemLocale"), ==, "de-DE");
  g_assert_cmpstr (answer (answers, PE_INTL "/UserLocale"), ==, "de-DE");
  g_assert_cmpstr (answer (answers, PE_INTL "/InputLocale"), ==, "0407:00000407");

  paths = answers_all (answers, PE_PNP "/DriverPaths/PathAndCredentials/Path");
  g_assert_cmpuint (paths->len, ==, 6 * 6);
  g_assert_true (g_ptr_array_find_with_equal_func (paths, "D:\\viostor\\w10\\amd64", g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (paths, "H:\\qxldod\\w10\\amd64", g_str_equal, NULL));
  g_assert_null (strstr (xml, "\\w11\\"));

  /* Recovery partition first, so Windows is partition 4 */
  g_assert_cmpstr (answer (answers, PE_SETUP "/ImageInstall/OSImage/InstallTo/PartitionID"), ==, "4");
  g_assert_cmpstr (answer (answers, PE_SETUP "/ImageInstall/OSImage/InstallFrom/MetaData/Key"), ==, "/IMAGE/INDEX");
  g_assert_cmpstr (answer (answers, PE_SETUP "/ImageInstall/OSImage/InstallFrom/MetaData/Value"), ==, "6");
  g_assert_cmpstr (answer (answers, PE_SETUP "/UserData/ProductKey/Key"), ==, "W269N-WFGWX-YVC9B-4J6C9-T83GX");
  g_assert_nonnull (strstr (xml, "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC"));

  g_assert_cmpstr (answer (answers, "specialize/Microsoft-Windows-Shell-Setup/TimeZone"), ==, "Eastern Standard Time");
  /* The network-free OOBE switch is a Windows 11 matter */
  g_assert_null (strstr (xml, "BypassNRO"));
  g_assert_null (strstr (xml, "hunter2"));
}

static void
test_unattend_shares (void)
{
  static const struct {
    CasementShareMethod method;
    const char         *golden;
    gboolean            virtiofs;
    gboolean            smb;
    gboolean            webdav;
  } cases[] = {
    { CASEMENT_SHARE_METHOD_VIRTIOFS, "win11-virtiofs.xml", TRUE, FALSE, FALSE },
    { CASEMENT_SHARE_METHOD_SMB, "win11-smb.xml", FALSE, TRUE, FALSE },
    { CASEMENT_SHARE_METHOD_WEBDAV, NULL, FALSE, FALSE, TRUE },
    { CASEMENT_SHARE_METHOD_AUTO, NULL, TRUE, TRUE, TRUE },
  };
  CasementUnattendOptions options = { .media_language = "en-US", .time_zone = "UTC" };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CasementVmConfig) config = make_config ("win11");
      g_autoptr(GHashTable) answers = NULL;
      g_autofree char *xml = NULL;

      casement_vm_config_set_share_folder (config, "/home/zoe/Shared, with “quotes” & more");
      casement_vm_config_set_share_method (config, cases[i].method);

      xml = build (config, "pw", &options);
      if (cases[i].golden != NULL)
        assert_golden (xml, cases[i].golden);
      answers = parse_answers (xml);

      assert_commands_contain (answers, "winfsp", cases[i].virtiofs);
      assert_commands_contain (answers, "sc config VirtioFsSvc start= auto", cases[i].virtiofs);
      assert_commands_contain (answers, "sc start VirtioFsSvc", cases[i].virtiofs);
      if (cases[i].virtiofs)
        {
          /* WinFsp from the root of any CD, silently and waited for, before
           * the service that needs it starts */
          assert_commands_contain (answers, "(%d:\\winfsp*.msi) do start \"\" /wait msiexec /i \"%f\" /qn /norestart",
                                   TRUE);
          g_assert_cmpuint (command_index (answers, "winfsp*.msi"), <,
                            command_index (answers, "sc config VirtioFsSvc"));
          g_assert_cmpuint (command_index (answers, "winfsp*.msi"), <,
                            command_index (answers, "sc start VirtioFsSvc"));
        }
      assert_commands_contain (answers, "AllowInsecureGuestAuth", cases[i].smb);
      assert_commands_contain (answers, "net use Z: \\\\10.0.2.4\\qemu /persistent:yes", cases[i].smb);
      assert_commands_contain (answers, "sc config WebClient start= auto", cases[i].webdav);
      assert_commands_contain (answers, "spice-webdavd*.msi", cases[i].webdav);
      assert_commands_contain (answers, "virtio-win-guest-tools.exe", TRUE);
      assert_commands_contain (answers, CASEMENT_UNATTEND_DONE_MARKER, TRUE);

      /* The host path never reaches the guest's answers */
      g_assert_null (strstr (xml, "Shared, with"));
    }

  /* A method without a folder shares nothing */
  {
    g_autoptr(CasementVmConfig) config = make_config ("win11");
    g_autoptr(GHashTable) answers = NULL;
    g_autofree char *xml = NULL;

    casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_SMB);
    xml = build (config, "pw", &options);
    answers = parse_answers (xml);
    assert_commands_contain (answers, "net use", FALSE);
  }
}

static void
test_unattend_awkward (void)
{
  g_autoptr(CasementVmConfig) config = make_config ("win11");
  g_autoptr(GHashTable) answers = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *account = NULL;
  const char *password = "p<a&s>s\"w'ö]]>\xe2\x82\xac ";
  const char *full_name = "<Zoë> & \"Bob\" 'O'Brien' ]]> &amp;";
  CasementUnattendOptions options = { .full_name = full_name, .media_language = "fr-FR", .time_zone = "Europe/Paris" };

  casement_vm_config_set_user_name (config, "Zoë & 'Ünal'");
  casement_vm_config_set_computer_name (config, NULL);
  casement_vm_config_set_language (config, "fr-FR");
  casement_vm_config_set_keyboard (config, "fr-FR;0409:00000409");

  xml = build (config, password, &options);
  assert_golden (xml, "win11-awkward.xml");
  answers = parse_answers (xml);

  /* Every answer comes back exactly as given */
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/UserAccounts/LocalAccounts/LocalAccount/Name"), ==, "Zoë & 'Ünal'");
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/UserAccounts/LocalAccounts/LocalAccount/DisplayName"), ==, full_name);
  g_assert_cmpstr (answer (answers, PE_SETUP "/UserData/FullName"), ==, full_name);
  g_assert_cmpstr (answer (answers, OOBE_SHELL "/AutoLogon/Username"), ==, "Zoë & 'Ünal'");
  g_assert_cmpstr (answer (answers, PE_INTL "/InputLocale"), ==, "fr-FR;0409:00000409");
  account = decode_password (answer (answers, OOBE_SHELL "/AutoLogon/Password/Value"));
  g_assert_cmpstr (account, ==, password);
  g_assert_null (strstr (xml, "p<a&s>s"));

  /* The computer name comes from the VM's name when none is set */
  g_assert_cmpstr (answer (answers, "specialize/Microsoft-Windows-Shell-Setup/ComputerName"), ==, "WORK-PC");
  g_assert_cmpstr (answer (answers, "specialize/Microsoft-Windows-Shell-Setup/TimeZone"), ==, "Romance Standard Time");
}

static void
test_unattend_product_keys (void)
{
  static const struct {
    const char *user_key;
    const char *edition_id;
    guint       image_index;
    const char *expected_key;     /* NULL: no ProductKey element at all */
    const char *expected_index;   /* NULL: no InstallFrom */
  } cases[] = {
    { NULL, NULL, 0, "W269N-WFGWX-YVC9B-4J6C9-T83GX", NULL },
    { NULL, "Core", 1, "YTMG3-N6DKC-DKB77-7M9GH-8HVX7", "1" },
    { NULL, "Education", 4, "NW6C2-QMPVW-D7KKK-3GKT6-VCFB2", "4" },
    { NULL, "EnterpriseEval", 1, NULL, "1" },
    { NULL, "SomethingNew", 2, "W269N-WFGWX-YVC9B-4J6C9-T83GX", "2" },
    { "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY", "Core", 1, "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CasementVmConfig) config = make_config ("win11");
      g_autoptr(GHashTable) answers = NULL;
      g_autofree char *xml = NULL;
      CasementUnattendOptions options = {
        .edition_id = cases[i].edition_id,
        .image_index = cases[i].image_index,
        .time_zone = "UTC",
      };

      casement_vm_config_set_product_key (config, cases[i].user_key);
      xml = build (config, "pw", &options);
      answers = parse_answers (xml);

      g_assert_cmpstr (answer (answers, PE_SETUP "/UserData/ProductKey/Key"), ==, cases[i].expected_key);
      g_assert_cmpstr (answer (answers, PE_SETUP "/ImageInstall/OSImage/InstallFrom/MetaData/Value"), ==,
                       cases[i].expected_index);
      if (cases[i].user_key == NULL && cases[i].expected_key != NULL)
        g_assert_nonnull (strstr (xml, "generic key"));
      if (cases[i].user_key != NULL)
        g_assert_null (strstr (xml, "generic key"));
    }
}

static void
test_unattend_invalid (void)
{
  static const struct {
    const char *field;
    const char *value;
  } bad[] = {
    { "computer", "MY COMPUTER" },
    { "computer", "A-NAME-MUCH-TOO-LONG" },
    { "computer", "12345" },
    { "computer", "Zoë-PC" },
    { "computer", "PC_1" },
    { "language", "english" },
    { "language", "de" },
    { "language", "en_US" },
    { "language", "en-US-x" },
    { "keyboard", "German" },
    { "keyboard", "0407" },
    { "user", "Administrator" },
    { "user", "guest" },
    { "user", "a/b" },
    { "user", "x<y" },
    { "user", "100%" },
    { "user", "..." },
    { "user", "twenty-one-characters" },
    { "key", "ABCDE-FGHIJ" },
    { "media", "en" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(CasementVmConfig) config = make_config ("win11");
      g_autoptr(GError) error = NULL;
      g_autofree char *xml = NULL;
      CasementUnattendOptions options = { .time_zone = "UTC" };

      if (g_str_equal (bad[i].field, "computer"))
        casement_vm_config_set_computer_name (config, bad[i].value);
      else if (g_str_equal (bad[i].field, "language"))
        casement_vm_config_set_language (config, bad[i].value);
      else if (g_str_equal (bad[i].field, "keyboard"))
        casement_vm_config_set_keyboard (config, bad[i].value);
      else if (g_str_equal (bad[i].field, "user"))
        casement_vm_config_set_user_name (config, bad[i].value);
      else if (g_str_equal (bad[i].field, "key"))
        casement_vm_config_set_product_key (config, bad[i].value);
      else
        options.media_language = bad[i].value;

      xml = casement_unattend_build (config, "pw", &options, &error);
      g_assert_error (error, CASEMENT_UNATTEND_ERROR, CASEMENT_UNATTEND_ERROR_INVALID);
      g_assert_null (xml);
      /* The message quotes what is wrong (keys excepted: they stay out of logs) */
      if (!g_str_equal (bad[i].field, "key"))
        g_assert_nonnull (strstr (error->message, bad[i].value));
    }

  /* No user, a user named like the computer, a control character */
  {
    g_autoptr(CasementVmConfig) config = make_config ("win11");
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    casement_vm_config_set_user_name (config, NULL);
    xml = casement_unattend_build (config, "pw", NULL, &error);
    g_assert_error (error, CASEMENT_UNATTEND_ERROR, CASEMENT_UNATTEND_ERROR_INVALID);
    g_clear_error (&error);

    casement_vm_config_set_user_name (config, "zoe-pc");
    xml = casement_unattend_build (config, "pw", NULL, &error);
    g_assert_error (error, CASEMENT_UNATTEND_ERROR, CASEMENT_UNATTEND_ERROR_INVALID);
    g_clear_error (&error);

    casement_vm_config_set_user_name (config, "zoe");
    xml = casement_unattend_build (config, "line\nbreak", NULL, &error);
    g_assert_error (error, CASEMENT_UNATTEND_ERROR, CASEMENT_UNATTEND_ERROR_INVALID);
    g_assert_null (strstr (error->message, "line"));
    g_clear_error (&error);

    /* Not a Windows express install can do */
    casement_vm_config_set_os_id (config, "debian11");
    xml = casement_unattend_build (config, "pw", NULL, &error);
    g_assert_error (error, CASEMENT_UNATTEND_ERROR, CASEMENT_UNATTEND_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "debian11"));
  }

  /* The checks the wizard uses while the user types */
  g_assert_true (casement_unattend_check_computer_name ("DESKTOP-1", NULL));
  g_assert_true (casement_unattend_check_language ("sr-Latn-RS", NULL));
  g_assert_true (casement_unattend_check_language ("es-419", NULL));
  g_assert_true (casement_unattend_check_user_name ("Zoë O'Brien", NULL));
}

static void
test_unattend_defaults_from_host (void)
{
  g_autoptr(CasementVmConfig) config = make_config ("win11");
  g_autoptr(GHashTable) answers = NULL;
  g_autofree char *xml = NULL;

  /* No language, keyboard or zone given: the host's. LANGUAGE and TZ
   * are read when first needed, so they are set before anything asks. */
  casement_vm_config_set_language (config, NULL);
  casement_vm_config_set_keyboard (config, NULL);

  xml = build (config, "pw", NULL);
  answers = parse_answers (xml);

  g_assert_cmpstr (answer (answers, PE_INTL "/UserLocale"), ==, "pt-BR");
  g_assert_cmpstr (answer (answers, PE_INTL "/UILanguage"), ==, "pt-BR");
  g_assert_cmpstr (answer (answers, PE_INTL "/InputLocale"), ==, "pt-BR");
  g_assert_cmpstr (answer (answers, "specialize/Microsoft-Windows-Shell-Setup/TimeZone"), ==, "Tokyo Standard Time");
}

static void
test_unattend_time_zones (void)
{
  g_assert_cmpstr (casement_unattend_windows_time_zone ("Europe/Berlin"), ==, "W. Europe Standard Time");
  g_assert_cmpstr (casement_unattend_windows_time_zone ("Europe/London"), ==, "GMT Standard Time");
  g_assert_cmpstr (casement_unattend_windows_time_zone ("America/Los_Angeles"), ==, "Pacific Standard Time");
  g_assert_cmpstr (casement_unattend_windows_time_zone ("Asia/Kolkata"), ==, "India Standard Time");
  g_assert_cmpstr (casement_unattend_windows_time_zone ("Australia/Sydney"), ==, "AUS Eastern Standard Time");
  g_assert_cmpstr (casement_unattend_windows_time_zone ("Etc/UTC"), ==, "UTC");
  g_assert_cmpstr (casement_unattend_windows_time_zone ("Antarctica/Troll"), ==, "UTC");
  g_assert_cmpstr (casement_unattend_windows_time_zone ("not a zone"), ==, "UTC");
}

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GFile *
write_medium_full (const char  *xml,
                   const char  *winfsp_installer,
                   const char  *vm_dir,
                   GError     **error)
{
  g_autoptr(GFile) dir = g_file_new_for_path (vm_dir);
  g_autoptr(GFile) installer = winfsp_installer ? g_file_new_for_path (winfsp_installer) : NULL;
  g_autoptr(GAsyncResult) result = NULL;

  casement_unattend_write_medium_async (xml, installer, dir, NULL, write_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return casement_unattend_write_medium_finish (result, error);
}

static GFile *
write_medium (const char *xml,
              const char *vm_dir)
{
  g_autoptr(GError) error = NULL;
  GFile *medium = write_medium_full (xml, NULL, vm_dir, &error);

  g_assert_no_error (error);
  return medium;
}

/* Bytes like an MSI's start (an OLE compound file) and then a pattern no
 * two sectors share, over an odd length. */
static GBytes *
make_fake_msi (void)
{
  static const guint8 ole_magic[] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
  gsize size = 300 * 1024 + 17;
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) ((i * 2654435761u) >> 13);
  memcpy (data, ole_magic, sizeof ole_magic);

  return g_bytes_new_take (data, size);
}

static void
assert_iso_file (CasementIso *iso,
                 const char  *name,
                 const void  *data,
                 gsize        size)
{
  g_autoptr(GBytes) read_back = NULL;
  g_autoptr(GError) error = NULL;

  read_back = casement_iso_read (iso, name, 0, G_MAXSIZE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (read_back, NULL), g_bytes_get_size (read_back), data, size);
}

static void
test_unattend_medium_winfsp (void)
{
  g_autoptr(CasementVmConfig) config = make_config ("win11");
  g_autoptr(GBytes) msi = make_fake_msi ();
  g_autoptr(GError) error = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *vm_dir = g_build_filename (tmp_root, "vms", "winfsp", NULL);
  g_autofree char *downloads = g_build_filename (tmp_root, "Downloads, “new”", NULL);
  g_autofree char *installer = g_build_filename (downloads, "winfsp-2.0.23075.msi", NULL);
  g_autofree char *renamed = g_build_filename (downloads, "WinFsp Setup (1).msi", NULL);
  g_autofree char *missing = g_build_filename (downloads, "winfsp-gone.msi", NULL);
  CasementUnattendOptions options = { .time_zone = "UTC" };
  gsize msi_size = 0;
  const void *msi_data = g_bytes_get_data (msi, &msi_size);

  casement_vm_config_set_share_folder (config, "/home/zoe/Shared");
  casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_VIRTIOFS);
  xml = build (config, "pw", &options);

  g_assert_cmpint (g_mkdir_with_parents (vm_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (downloads, 0700), ==, 0);
  g_file_set_contents (installer, msi_data, msi_size, &error);
  g_assert_no_error (error);
  g_file_set_contents (renamed, msi_data, msi_size, &error);
  g_assert_no_error (error);

  /* The installer goes on the medium under its own name, next to the answers */
  {
    g_autoptr(GFile) medium = write_medium_full (xml, installer, vm_dir, &error);
    g_autoptr(CasementIso) iso = NULL;
    g_auto(GStrv) names = NULL;
    g_autofree char *path = NULL;

    g_assert_no_error (error);
    path = g_file_get_path (medium);
    iso = casement_iso_open (medium, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (casement_iso_get_file_system (iso), ==, CASEMENT_ISO_FILE_SYSTEM_JOLIET);
    names = casement_iso_list_dir (iso, "/", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_strv_length (names), ==, 2);
    g_assert_true (g_strv_contains ((const char * const *) names, "autounattend.xml"));
    g_assert_true (g_strv_contains ((const char * const *) names, "winfsp-2.0.23075.msi"));
    assert_iso_file (iso, "autounattend.xml", xml, strlen (xml));
    assert_iso_file (iso, "winfsp-2.0.23075.msi", msi_data, msi_size);

    if (have_program ("xorriso"))
      {
        g_autofree char *extracted = g_build_filename (tmp_root, "extracted.msi", NULL);
        g_autofree char *out = NULL;
        g_autofree char *data = NULL;
        gsize len = 0;
        int status = 0;
        const char *ls[] = { "xorriso", "-indev", path, "-ls", "/", NULL };
        const char *extract[] = { "xorriso", "-osirrox", "on", "-indev", path, "-extract",
                                  "/winfsp-2.0.23075.msi", extracted, NULL };

        g_spawn_sync (NULL, (char **) ls, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, &status, &error);
        g_assert_no_error (error);
        g_assert_true (g_spawn_check_wait_status (status, NULL));
        g_assert_nonnull (strstr (out, "'autounattend.xml'"));
        g_assert_nonnull (strstr (out, "'winfsp-2.0.23075.msi'"));

        g_spawn_sync (NULL, (char **) extract, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, NULL, NULL, &status, &error);
        g_assert_no_error (error);
        g_assert_true (g_spawn_check_wait_status (status, NULL));
        g_file_get_contents (extracted, &data, &len, &error);
        g_assert_no_error (error);
        g_assert_cmpmem (data, len, msi_data, msi_size);
        g_unlink (extracted);
      }
    else
      {
        g_test_message ("xorriso missing: only Casement's reader read the medium");
      }
  }

  /* A name the first-logon command would not find, or a disc image cannot
   * hold, becomes one it finds */
  {
    g_autoptr(GFile) medium = write_medium_full (xml, renamed, vm_dir, &error);
    g_autoptr(CasementIso) iso = NULL;
    g_auto(GStrv) names = NULL;

    g_assert_no_error (error);
    iso = casement_iso_open (medium, NULL, &error);
    g_assert_no_error (error);
    names = casement_iso_list_dir (iso, "/", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_strv_length (names), ==, 2);
    g_assert_true (g_strv_contains ((const char * const *) names, "winfsp.msi"));
    assert_iso_file (iso, "winfsp.msi", msi_data, msi_size);
  }

  /* An installer that went away is named, and nothing is half written */
  {
    g_autoptr(GFile) medium = NULL;
    g_autoptr(CasementIso) iso = NULL;
    g_auto(GStrv) names = NULL;
    g_autoptr(GFile) existing = NULL;
    g_autofree char *medium_path = g_build_filename (vm_dir, CASEMENT_UNATTEND_MEDIUM_NAME, NULL);

    medium = write_medium_full (xml, missing, vm_dir, &error);
    g_assert_null (medium);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "WinFsp installer"));
    g_assert_nonnull (strstr (error->message, "winfsp-gone.msi"));
    g_clear_error (&error);

    existing = g_file_new_for_path (medium_path);
    iso = casement_iso_open (existing, NULL, &error);
    g_assert_no_error (error);
    names = casement_iso_list_dir (iso, "/", NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_strv_contains ((const char * const *) names, "winfsp.msi"));
  }
}

static void
test_unattend_medium (void)
{
  g_autoptr(CasementVmConfig) config = make_config ("win11");
  g_autoptr(CasementIso) iso = NULL;
  g_autoptr(GFile) medium = NULL;
  g_autoptr(GBytes) read_back = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(OsinfoMedia) osinfo_media = NULL;
  g_auto(GStrv) names = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *vm_dir = g_build_filename (tmp_root, "vms", "Zoë's VM, #1", NULL);
  g_autofree char *path = NULL;
  g_autofree char *uri = NULL;
  CasementUnattendOptions options = { .full_name = "Zoë <&>", .time_zone = "UTC" };
  GStatBuf st;

  g_assert_cmpint (g_mkdir_with_parents (vm_dir, 0700), ==, 0);
  xml = build (config, "sécret", &options);
  medium = write_medium (xml, vm_dir);

  path = g_file_get_path (medium);
  g_assert_true (g_str_has_suffix (path, "/" CASEMENT_UNATTEND_MEDIUM_NAME));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* Our own reader: one file, the same bytes */
  iso = casement_iso_open (medium, NULL, &error);
  g_assert_no_error (error);
  names = casement_iso_list_dir (iso, "/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (names), ==, 1);
  g_assert_cmpstr (names[0], ==, "autounattend.xml");
  read_back = casement_iso_read (iso, "autounattend.xml", 0, G_MAXSIZE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (read_back, NULL), g_bytes_get_size (read_back), xml, strlen (xml));

  /* libosinfo reads its volume descriptor too (it is no installer, so
   * it is not asked to be bootable) */
  uri = g_file_get_uri (medium);
  osinfo_media = osinfo_media_create_from_location_with_flags (uri, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (osinfo_media_get_volume_id (osinfo_media), ==, "CASEMENT");

  /* Writing again replaces it whole */
  {
    g_autoptr(GFile) again = NULL;
    g_autoptr(CasementIso) iso2 = NULL;
    g_autoptr(GBytes) second = NULL;

    casement_vm_config_set_user_name (config, "bob");
    g_free (xml);
    xml = build (config, "other", &options);
    again = write_medium (xml, vm_dir);
    iso2 = casement_iso_open (again, NULL, &error);
    g_assert_no_error (error);
    second = casement_iso_read (iso2, "AUTOUNATTEND.XML", 0, G_MAXSIZE, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (second, NULL), g_bytes_get_size (second), xml, strlen (xml));
  }

  /* Other readers: xorriso (Joliet, as Windows reads it) and isoinfo's
   * plain ISO 9660 view */
  if (have_program ("xorriso"))
    {
      g_autofree char *extracted = g_build_filename (tmp_root, "extracted.xml", NULL);
      g_autofree char *data = NULL;
      g_autofree char *out = NULL;
      gsize len = 0;
      int status = 0;
      const char *ls[] = { "xorriso", "-indev", path, "-ls", "/", NULL };
      const char *extract[] = { "xorriso", "-osirrox", "on", "-indev", path, "-extract", "/autounattend.xml",
                                extracted, NULL };

      g_spawn_sync (NULL, (char **) ls, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, &out, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_nonnull (strstr (out, "'autounattend.xml'"));

      g_spawn_sync (NULL, (char **) extract, NULL,
                    G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_file_get_contents (extracted, &data, &len, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (data, len, xml, strlen (xml));
      g_unlink (extracted);
    }

  if (have_program ("isoinfo"))
    {
      g_autofree char *out = NULL;
      int status = 0;
      const char *plain[] = { "isoinfo", "-i", path, "-l", NULL };
      const char *joliet[] = { "isoinfo", "-i", path, "-J", "-x", "/autounattend.xml", NULL };

      g_spawn_sync (NULL, (char **) plain, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, &out, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_nonnull (strstr (out, "AUTOUNATTEND.XML;1"));
      g_clear_pointer (&out, g_free);

      g_spawn_sync (NULL, (char **) joliet, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, &out, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_cmpstr (out, ==, xml);
    }

  if (!have_program ("xorriso") || !have_program ("isoinfo"))
    g_test_message ("xorriso or isoinfo (genisoimage) missing: only Casement's and libosinfo's readers were used");
}

/* The kernel's ISO 9660 driver, as close to Windows' CDFS as this machine has. */
static void
test_unattend_medium_mount (void)
{
  g_autoptr(CasementVmConfig) config = make_config ("win10");
  g_autoptr(GFile) medium = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *vm_dir = g_build_filename (tmp_root, "vms", "mount", NULL);
  g_autofree char *mount_point = g_build_filename (tmp_root, "mnt", NULL);
  g_autofree char *path = NULL;
  g_autofree char *mounted_file = g_build_filename (mount_point, "autounattend.xml", NULL);
  g_autofree char *data = NULL;
  g_autofree char *err = NULL;
  const char *umount[] = { "umount", mount_point, NULL };
  CasementUnattendOptions options = { .time_zone = "UTC" };
  int status = 0;

  if (geteuid () != 0)
    {
      g_test_skip ("mounting a disc image needs root");
      return;
    }

  g_assert_cmpint (g_mkdir_with_parents (vm_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (mount_point, 0700), ==, 0);
  xml = build (config, "pw", &options);
  medium = write_medium (xml, vm_dir);
  path = g_file_get_path (medium);

  {
    const char *mount[] = { "mount", "-t", "iso9660", "-o", "loop,ro", path, mount_point, NULL };

    g_spawn_sync (NULL, (char **) mount, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                  NULL, NULL, NULL, &err, &status, &error);
    g_assert_no_error (error);
  }

  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_autofree char *reason = NULL;

      err[strcspn (err, "\n")] = '\0';
      reason = g_strdup_printf ("this machine cannot loop-mount a disc image: %s", err);

      g_test_skip (reason);
      return;
    }

  g_file_get_contents (mounted_file, &data, NULL, &error);
  g_spawn_sync (NULL, (char **) umount, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (data, ==, xml);
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = NULL;

  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      const char *name;

      if ((dir = g_dir_open (path, 0, NULL)))
        while ((name = g_dir_read_name (dir)))
          {
            g_autofree char *child = g_build_filename (path, name, NULL);
            rm_rf (child);
          }
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  /* The host answers test_unattend_defaults_from_host expects */
  g_setenv ("LANGUAGE", "pt_BR.UTF-8", TRUE);
  g_setenv ("TZ", "Asia/Tokyo", TRUE);

  g_test_init (&argc, &argv, NULL);

  tmp_root = g_dir_make_tmp ("casement-test-unattend-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/Casement/Unattend/win11", test_unattend_win11);
  g_test_add_func ("/Casement/Unattend/win10", test_unattend_win10);
  g_test_add_func ("/Casement/Unattend/shares", test_unattend_shares);
  g_test_add_func ("/Casement/Unattend/awkward-answers", test_unattend_awkward);
  g_test_add_func ("/Casement/Unattend/product-keys", test_unattend_product_keys);
  g_test_add_func ("/Casement/Unattend/invalid", test_unattend_invalid);
  g_test_add_func ("/Casement/Unattend/defaults-from-host", test_unattend_defaults_from_host);
  g_test_add_func ("/Casement/Unattend/time-zones", test_unattend_time_zones);
  g_test_add_func ("/Casement/Unattend/medium", test_unattend_medium);
  g_test_add_func ("/Casement/Unattend/medium-mount", test_unattend_medium_mount);
  g_test_add_func ("/Casement/Unattend/medium-winfsp", test_unattend_medium_winfsp);

  ret = g_test_run ();

  rm_rf (tmp_root);
  g_free (tmp_root);

  return ret;
}
