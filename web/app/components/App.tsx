import { useCallback, useEffect, useMemo, useState } from 'react';
import type { AppUserFragment } from '../__generated__/graphql.js';
import { DICTIONARIES, I18nContext, initialLanguage, saveLanguage, type Language } from '../i18n.js';
import { forgetSession, savedUser, saveSession, sessionClient } from '../session.js';
import { AuthForm } from './AuthForm.js';
import { ChatShell } from './ChatShell.js';

/** The page: the sign-in form, or the chat for the signed-in user (kept across reloads). */
export function App() {
  const [language, setLanguage] = useState<Language>(initialLanguage);
  const [user, setUser] = useState<AppUserFragment | null>(savedUser);
  const [notice, setNotice] = useState<string | null>(null);
  const t = DICTIONARIES[language];

  useEffect(() => saveLanguage(language), [language]);

  const signedOut = useCallback(() => {
    forgetSession();
    setUser(null);
  }, []);
  const client = useMemo(
    () =>
      user
        ? sessionClient(() => {
            signedOut();
            setNotice(DICTIONARIES[initialLanguage()].sessionEnded);
          })
        : null,
    [user, signedOut],
  );
  useEffect(() => () => void client?.close(), [client]);

  const signedIn = useCallback((token: string, signedInUser: AppUserFragment) => {
    saveSession(token, signedInUser);
    setNotice(null);
    setUser(signedInUser);
  }, []);

  return (
    <I18nContext.Provider value={t}>
      {user && client ? (
        <ChatShell client={client} me={user} language={language} onLanguage={setLanguage} onSignedOut={signedOut} />
      ) : (
        <AuthForm language={language} onLanguage={setLanguage} onSignedIn={signedIn} notice={notice} />
      )}
    </I18nContext.Provider>
  );
}
