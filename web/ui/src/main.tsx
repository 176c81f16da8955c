import { render } from 'preact';
import './styles.css';
import { App } from './App';
import { lang, loadLang } from './i18n';
import { prefetchLive } from './live';
import { loadSession } from './session';

// Ask for the session and, in parallel, the live values before the first
// render, and render once they are here (or after a short wait): the Now
// page then draws with its data in one go, without a loading frame first.
const ready = Promise.all([loadSession(), loadLang(lang.get()), prefetchLive(lang.get())]);
// The first use of Intl initialises ICU (tens of ms on a small board): do it
// while the answers are on their way.
new Intl.NumberFormat(lang.get()).format(1);
new Intl.DateTimeFormat(lang.get(), { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(0);
void Promise.race([ready, new Promise((r) => setTimeout(r, 600))]).then(() =>
  render(<App />, document.getElementById('app') as HTMLElement),
);
