// Shell of the dashboard: log-in, the views the user's role may use (from /api/auth/me permissions), routing.
import { api, setToken, token } from "./api.js";
import { getLang, setLang, t } from "./i18n.js";
import { VIEWS } from "./views.js";

const main = document.getElementById("main");
let me = null;
let current = null; // the view's cleanup

export function allowed(view) { return !view.needs || view.needs.every((a) => me.permissions.includes(a)); }

function renderNav() {
  const nav = document.getElementById("nav");
  nav.innerHTML = "";
  document.getElementById("brand-sub").textContent = t("brand_sub");
  document.getElementById("lang").textContent = getLang() === "zh" ? "EN" : "中文";
  const logout = document.getElementById("logout");
  logout.textContent = t("logout");
  logout.hidden = !me;
  document.getElementById("who").textContent = me ? `${me.display_name || me.username} · ${me.role}` : "";
  if (!me) return;
  for (const v of VIEWS.filter(allowed)) {
    const a = document.createElement("a");
    a.href = `#/${v.id}`; a.textContent = t(v.id); a.dataset.view = v.id; a.dataset.testid = `nav-${v.id}`;
    a.setAttribute("data-testid", `nav-${v.id}`);
    nav.appendChild(a);
  }
}

function loginView(message) {
  main.innerHTML = `<div class="panel login"><h2>润泽 · ${t("login")}</h2>
    <form id="login-form" class="form">
      <label for="u">${t("username")}</label><input id="u" name="username" autocomplete="username" required>
      <label for="p">${t("password")}</label><input id="p" name="password" type="password" autocomplete="current-password" required>
      <span></span><button type="submit" data-testid="login-submit">${t("login")}</button>
    </form><p class="muted">${t("demo_hint")}</p><div class="error" id="login-error">${message || ""}</div></div>`;
  document.getElementById("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try {
      const tok = await api("/api/auth/token", { method: "POST", form: { username: f.get("username"), password: f.get("password") } });
      setToken(tok.access_token);
      await start();
    } catch (e) { document.getElementById("login-error").textContent = e.message; }
  });
}

async function route() {
  if (!me) return;
  if (current) { try { current(); } catch { /* a view's cleanup never blocks navigation */ } current = null; }
  const id = (location.hash.replace(/^#\//, "") || "overview").split("?")[0];
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const view = VIEWS.find((v) => v.id === id) || VIEWS[0];
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === view.id));
  main.innerHTML = "";
  const root = document.createElement("section");
  root.dataset.testid = `view-${view.id}`; root.setAttribute("data-testid", `view-${view.id}`);
  main.appendChild(root);
  if (!allowed(view)) { root.innerHTML = `<div class="unavailable">${t("not_allowed")}</div>`; return; }
  root.innerHTML = `<p class="muted">${t("loading")}</p>`;
  try {
    current = await view.render(root, { me, params });
  } catch (e) {
    root.innerHTML = `<h2>${t(view.id)}</h2><div class="error" data-testid="view-error">${t("failed")}: ${e.message}</div>`;
  }
  root.dataset.ready = "1"; root.setAttribute("data-ready", "1");
}

async function start() {
  if (!token()) { me = null; renderNav(); loginView(); return; }
  try { me = await api("/api/auth/me"); window.runzeMe = me; }
  catch (e) { setToken(null); me = null; renderNav(); loginView(e.status === 401 ? "" : e.message); return; }
  renderNav();
  await route();
}

document.getElementById("lang").addEventListener("click", () => { setLang(getLang() === "zh" ? "en" : "zh"); renderNav(); me ? route() : loginView(); });
document.getElementById("logout").addEventListener("click", () => { setToken(null); me = null; location.hash = ""; start(); });
window.addEventListener("hashchange", route);
setLang(getLang());
start();
