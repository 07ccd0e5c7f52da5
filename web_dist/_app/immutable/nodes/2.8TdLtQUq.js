import{_ as m}from"../chunks/5vfV07Ne.js";export{m as component};
