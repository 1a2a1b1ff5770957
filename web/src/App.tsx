/** The dashboard shell: sign-in, the app and mode it acts as, navigation by URL hash. */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, setApiContext, type List, type Mode } from './api';
import { Notice } from './ui';
import { Home } from './pages/Home';
import { Connections } from './pages/Connections';
import { Apps } from './pages/Apps';
import { Actions } from './pages/Actions';
import { Sessions } from './pages/Sessions';
import { Logs } from './pages/Logs';
import { Events } from './pages/Events';
import { Webhooks } from './pages/Webhooks';
import { Syncs } from './pages/Syncs';
import { Authorize } from './pages/Authorize';

export interface AppSummary {
  id: string;
  name: string;
  created: number;
  keys: { id: string; mode: Mode; hint: string; created: number; revoked: boolean; expires_at: number | null }[];
}

interface Shell {
  apps: AppSummary[];
  app: AppSummary;
  mode: Mode;
  embeddedSandbox: boolean;
  /** Modes whose Connect OAuth has platform credentials (STRIPE_CLIENT_ID_<MODE>, STRIPE_SECRET_KEY_<MODE>). */
  oauthModes: Mode[];
  reloadApps: () => Promise<void>;
  /** Bumped when the app or mode changes, so pages reload. */
  scope: string;
}

const ShellContext = createContext<Shell>(null as unknown as Shell);
export const useShell = () => useContext(ShellContext);

/** The current route: `#/logs/log_123` → ['logs', 'log_123']. */
export function useRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('?')[0].split('/').filter(Boolean);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const go = (path: string) => {
  window.location.hash = `#/${path}`;
};

const NAV: { path: string; label: string; icon: string; section?: string }[] = [
  { path: '', label: 'Home', icon: '⌂' },
  { path: 'connections', label: 'Connections', icon: '⇄', section: 'Stripe' },
  { path: 'actions', label: 'Actions', icon: '⚡' },
  { path: 'sessions', label: 'Payment sessions', icon: '▭' },
  { path: 'syncs', label: 'Syncs & reports', icon: '↻' },
  { path: 'logs', label: 'Request logs', icon: '≡', section: 'Monitor' },
  { path: 'events', label: 'Events', icon: '◎' },
  { path: 'webhooks', label: 'Webhooks', icon: '↗' },
  { path: 'apps', label: 'Apps & API keys', icon: '⚙', section: 'Settings' },
];

function Mark() {
  return (
    <span className="brand-mark">
      <svg viewBox="0 0 24 24" fill="none"><path d="M4 16c3.5-7 12.5-7 16 0" stroke="white" strokeWidth="2.6" strokeLinecap="round" /><circle cx="4" cy="16" r="2" fill="white" /><circle cx="20" cy="16" r="2" fill="white" /></svg>
    </span>
  );
}

function SignIn(p: { onSignedIn: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await api('POST', '/dashboard/api/session', { password });
      p.onSignedIn();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="center">
      <form className="panel stack" onSubmit={submit}>
        <div className="brand"><Mark />PayBridge</div>
        <div>
          <h1>Sign in to your dashboard</h1>
          <p className="muted">Use the admin password PayBridge printed when it first started.</p>
        </div>
        {error && <Notice tone="bad">{error}</Notice>}
        <label className="field">
          Admin password
          <input type="password" autoComplete="current-password" autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button className="primary block" disabled={busy || !password}>{busy ? 'Signing in…' : 'Sign in'}</button>
        <p className="muted small" style={{ margin: 0 }}>Lost it? Stop PayBridge and run <code>npx paybridge reset-admin-password</code>.</p>
      </form>
    </div>
  );
}

function Layout(p: { children: ReactNode; onSignOut: () => void; onApp: (id: string) => void; onMode: (m: Mode) => void }) {
  const shell = useShell();
  const route = useRoute();
  const here = route[0] ?? '';
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand"><Mark />PayBridge</div>
        <nav className="nav" aria-label="Main">
          {NAV.map((n) => (
            <div key={n.path} style={{ display: 'contents' }}>
              {n.section && <div className="section">{n.section}</div>}
              <a href={`#/${n.path}`} className={here === n.path ? 'active' : undefined}>
                <span aria-hidden="true" style={{ width: 16, textAlign: 'center' }}>{n.icon}</span>{n.label}
              </a>
            </div>
          ))}
        </nav>
        <div className="sidebar-foot muted small">{shell.embeddedSandbox ? 'Stripe: embedded sandbox' : 'Stripe: api.stripe.com'}</div>
      </aside>
      <div>
        {shell.mode === 'test' && <div className="test-banner">Test mode: you are viewing test data</div>}
        <header className="topbar">
          <label className="row small muted">
            App
            <select aria-label="App" value={shell.app.id} onChange={(e) => p.onApp(e.target.value)}>
              {shell.apps.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
            </select>
          </label>
          <div className="segmented" role="group" aria-label="Mode">
            <button className={shell.mode === 'test' ? 'on test' : undefined} aria-pressed={shell.mode === 'test'} onClick={() => p.onMode('test')}>Test mode</button>
            <button className={shell.mode === 'live' ? 'on live' : undefined} aria-pressed={shell.mode === 'live'} onClick={() => p.onMode('live')}>Live mode</button>
          </div>
          <div className="spacer" />
          <button className="small" onClick={p.onSignOut}>Sign out</button>
        </header>
        <main className="content">{p.children}</main>
      </div>
    </div>
  );
}

function Routes() {
  const [page, ...rest] = useRoute();
  switch (page ?? '') {
    case '': return <Home />;
    // A fresh page per connection and for the list: no banner from another connection, no list from before a change.
    case 'connections': return <Connections key={rest[0] ?? 'list'} id={rest[0]} />;
    case 'apps': return <Apps />;
    case 'actions': return <Actions name={rest[0]} />;
    case 'sessions': return <Sessions id={rest[0]} />;
    case 'logs': return <Logs id={rest[0]} />;
    case 'events': return <Events id={rest[0]} />;
    case 'webhooks': return <Webhooks id={rest[0]} />;
    case 'syncs': return <Syncs />;
    case 'authorize': return <Authorize id={rest[0] ?? ''} />;
    default: return <Notice tone="warn">There is no page here. Pick one from the menu.</Notice>;
  }
}

export function App() {
  const [state, setState] = useState<'loading' | 'signed-out' | 'signed-in'>('loading');
  const [apps, setApps] = useState<AppSummary[]>([]);
  const [appId, setAppId] = useState(() => localStorage.getItem('paybridge.app') ?? '');
  const [mode, setMode] = useState<Mode>(() => (localStorage.getItem('paybridge.mode') as Mode) || 'test');
  const [embeddedSandbox, setEmbedded] = useState(true);
  const [oauthModes, setOauthModes] = useState<Mode[]>(['test']);

  const reloadApps = useCallback(async () => {
    const list = await api<List<AppSummary>>('GET', '/dashboard/api/apps');
    setApps(list.data);
  }, []);

  /** Reads the session (its CSRF token, where Stripe is) and, when signed in, the apps. */
  const loadSession = useCallback(async () => {
    const session = await api<{ signed_in: boolean; csrf_token?: string; embedded_sandbox?: boolean; oauth_modes?: Mode[] }>('GET', '/dashboard/api/session');
    setEmbedded(session.embedded_sandbox ?? true);
    if (session.oauth_modes) setOauthModes(session.oauth_modes);
    if (!session.signed_in) return setState('signed-out');
    setApiContext({ csrf: session.csrf_token });
    await reloadApps();
    setState('signed-in');
  }, [reloadApps]);

  useEffect(() => {
    setApiContext({ onSignedOut: () => setState('signed-out') });
    loadSession().catch(() => setState('signed-out'));
  }, [loadSession]);

  const app = apps.find((a) => a.id === appId) ?? apps[0];
  setApiContext({ app: app?.id ?? '', mode });
  useEffect(() => {
    if (app) localStorage.setItem('paybridge.app', app.id);
    localStorage.setItem('paybridge.mode', mode);
  }, [app, mode]);

  if (state === 'loading') return <div className="center muted">Loading…</div>;
  if (state === 'signed-out') return <SignIn onSignedIn={() => void loadSession()} />;
  if (!app) return <div className="center"><Notice tone="warn">There are no apps yet. Restart PayBridge to create the default app.</Notice></div>;

  const signOut = async () => {
    await api('DELETE', '/dashboard/api/session').catch(() => undefined);
    setState('signed-out');
  };
  return (
    <ShellContext.Provider value={{ apps, app, mode, embeddedSandbox, oauthModes, reloadApps, scope: `${app.id}:${mode}` }}>
      <Layout onSignOut={signOut} onApp={setAppId} onMode={setMode}>
        <Routes />
      </Layout>
    </ShellContext.Provider>
  );
}
