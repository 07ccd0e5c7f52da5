import{_ as m}from"../chunks/C6V3CQLu.js";export{m as component};
