// The Parley chat app, served at / (README "The chat app"). Its only data layer is the client SDK (src/client).
import './styles/base.css';
import './styles/chat.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App.js';

const root = document.getElementById('app');
if (!root) throw new Error('the page has no #app element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
