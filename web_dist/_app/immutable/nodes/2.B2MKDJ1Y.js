import{_ as m}from"../chunks/B2pZZYNE.js";export{m as component};
