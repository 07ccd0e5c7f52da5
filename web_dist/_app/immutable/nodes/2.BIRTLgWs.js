import{_ as m}from"../chunks/B0uYA-Bm.js";export{m as component};
