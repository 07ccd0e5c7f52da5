import{_ as m}from"../chunks/DGH9No4P.js";export{m as component};
