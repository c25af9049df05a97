// The GOV.UK Design System's scripts on every page, from a file of the app's own (the pages' CSP runs
// no inline script): the body marked as the Design System's inline snippet would, then each component
// with a data-module started.
import { initAll } from "/app/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
