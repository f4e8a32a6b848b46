import { useMemo, useState, type FormEvent } from 'react';
import { ParleyGraphQLError } from '../../../src/client/index.js';
import { AppSignInDocument, AppSignUpDocument, type AppUserFragment } from '../__generated__/graphql.js';
import { useT, type Language } from '../i18n.js';
import { anonymousClient } from '../session.js';
import { LanguageSwitch } from './LanguageSwitch.js';

interface Props {
  language: Language;
  onLanguage(language: Language): void;
  onSignedIn(token: string, user: AppUserFragment): void;
  notice: string | null;
}

/** Sign in or sign up with a username and password. */
export function AuthForm({ language, onLanguage, onSignedIn, notice }: Props) {
  const t = useT();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const client = useMemo(() => anonymousClient(), []);

  const submit = async (mode: 'signIn' | 'signUp') => {
    setBusy(true);
    setError(null);
    try {
      const auth =
        mode === 'signIn'
          ? (await client.request(AppSignInDocument, { username, password })).signIn
          : (await client.request(AppSignUpDocument, { username, password })).signUp;
      await client.close();
      onSignedIn(auth.token, auth.user);
    } catch (caught) {
      setError(caught instanceof ParleyGraphQLError ? caught.message : t.error);
    } finally {
      setBusy(false);
    }
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit('signIn');
  };

  return (
    <main className="auth">
      <form className="auth-form" onSubmit={onSubmit}>
        <div className="auth-head">
          <h1>{t.signInTitle}</h1>
          <LanguageSwitch language={language} onLanguage={onLanguage} />
        </div>
        {notice && <p className="notice">{notice}</p>}
        <label>
          <span>{t.username}</span>
          <input aria-label="Username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          <span>{t.password}</span>
          <input
            aria-label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="auth-actions">
          <button type="submit" aria-label="Sign in" disabled={busy}>
            {t.signIn}
          </button>
          <button type="button" aria-label="Sign up" className="secondary" disabled={busy} onClick={() => void submit('signUp')}>
            {t.signUp}
          </button>
        </div>
        <p className="hint">{t.authHint}</p>
      </form>
    </main>
  );
}
