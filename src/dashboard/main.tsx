// Entry point of the dashboard bundle: the stylesheets (bundled into one) and the app, rendered into the page's #app element.
/** @jsxImportSource preact */
import { render } from "preact";
import { App } from "./app.tsx";
import "./base.css";
import "./cards.css";
import "./tables.css";
import "./views.css";

const root = document.getElementById("app");
if (root !== null) {
  root.textContent = "";
  render(<App />, root);
}
