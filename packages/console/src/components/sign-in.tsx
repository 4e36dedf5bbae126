/**
 * Sign-in with an API key that can read events. The key is checked against the server before
 * it is kept (for this browser tab only); a refused key says why.
 */
import { type FormEvent, useId, useState } from 'react';
import { ApiError, createApi } from '../api.js';
import { type Credentials, fromApiKey } from '../auth.js';

function reasonOf(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'unauthorized') {
      return 'This key was not accepted: it is unknown or has been revoked. Check that you copied the whole key (it starts with hsk_).';
    }
    if (error.code === 'forbidden') {
      return 'This key cannot read events. Use a key with the events:read scope (or admin).';
    }
    return error.message;
  }
  return 'Something went wrong while checking the key. Try again.';
}

export function SignIn({
  onSignedIn,
  notice,
}: {
  readonly onSignedIn: (credentials: Credentials) => void;
  /** Why the reader is here again, e.g. after signing out. */
  readonly notice?: string;
}) {
  const id = useId();
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const credentials = fromApiKey(key);
    if (!credentials) {
      setError('Paste your API key first.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      await createApi(credentials).views();
      onSignedIn(credentials);
    } catch (caught) {
      setError(reasonOf(caught));
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={submit} aria-labelledby={`${id}-title`}>
        <p className="brand">Hindsight</p>
        <h1 id={`${id}-title`}>Sign in to the audit trail</h1>
        {notice && (
          <p className="notice notice-info" role="status">
            {notice}
          </p>
        )}
        <label htmlFor={`${id}-key`}>API key</label>
        <input
          id={`${id}-key`}
          name="apiKey"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.currentTarget.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
        />
        <p className="hint" id={`${id}-hint`}>
          A key with the <code>events:read</code> scope. It is kept only in this browser tab and
          forgotten when you close the tab or sign out.
        </p>
        {error && (
          <p className="field-error" id={`${id}-error`} role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
