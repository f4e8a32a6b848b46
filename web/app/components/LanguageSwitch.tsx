import { useT, type Language } from '../i18n.js';

export function LanguageSwitch({ language, onLanguage }: { language: Language; onLanguage(language: Language): void }) {
  const t = useT();
  return (
    <label className="language">
      <span className="visually-hidden">{t.language}</span>
      <select value={language} onChange={(e) => onLanguage(e.target.value as Language)} aria-label={t.language}>
        <option value="en" lang="en">English</option>
        <option value="zh" lang="zh-Hans">简体中文</option>
      </select>
    </label>
  );
}
