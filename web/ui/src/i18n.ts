import { store } from './store';
import { en } from './locales/en';

export type Lang = 'en' | 'zh-CN';
export type MsgKey = keyof typeof en;

const dicts: Partial<Record<Lang, Record<MsgKey, string>>> = { en };

/** Loads the texts of l (English is built in; Chinese is a lazy chunk). */
export async function loadLang(l: Lang): Promise<void> {
  if (dicts[l]) return;
  if (l === 'zh-CN') {
    try {
      dicts['zh-CN'] = (await import('./locales/zh')).zh;
    } catch {
      /* offline or a failed chunk: English stays */
    }
  }
}
export const languages: { code: Lang; name: string }[] = [
  { code: 'en', name: 'English' },
  { code: 'zh-CN', name: '简体中文' },
];

const storageKey = 'gwd.lang';

function detect(): Lang {
  try {
    const saved = localStorage.getItem(storageKey);
    if (saved === 'en' || saved === 'zh-CN') return saved;
  } catch {
    /* storage blocked */
  }
  for (const l of navigator.languages ?? [navigator.language]) {
    const tag = l.toLowerCase();
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}

export const lang = store<Lang>(detect());

function apply(l: Lang) {
  document.documentElement.lang = dicts[l] ? l : 'en';
  document.title = (dicts[l] ?? en)['app.title'];
}
void loadLang(lang.get()).then(() => apply(lang.get()));

export async function setLang(l: Lang) {
  try {
    localStorage.setItem(storageKey, l);
  } catch {
    /* storage blocked */
  }
  await loadLang(l);
  apply(l);
  lang.set(l);
}

/** The message for key in the current language, with {name} placeholders filled in. */
export function t(key: MsgKey, params?: Record<string, string | number>): string {
  let s = dicts[lang.get()]?.[key] ?? en[key] ?? key;
  if (params) {
    for (const [k, v] of Object.entries(params)) s = s.split(`{${k}}`).join(String(v));
  }
  return s;
}

/** t() for keys built at run time (quantities, bands, states); falls back to the given text. */
export function tx(key: string, fallback: string, params?: Record<string, string | number>): string {
  return key in en ? t(key as MsgKey, params) : fallback;
}
