import{_ as m}from"../chunks/Cl8WO4ep.js";export{m as component};
