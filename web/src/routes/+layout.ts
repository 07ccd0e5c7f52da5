// A single-page app: the Python server serves index.html for every studio URL.
export const ssr = false;
export const prerender = false;
