// Start the NHS.UK design system's components (the header's "More" menu, error summaries,
// buttons…). A module: browsers too old for the components never run it, and the pages
// work without it.
import { initAll } from "/assets/nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
