import { PageApp } from './page-app.js';

declare global {
  interface Window {
    /** Read-only test and benchmark hook: the page's state and where things are drawn. */
    __flame?: PageApp;
  }
}

const app = new PageApp();
window.__flame = app;
void app.start();
