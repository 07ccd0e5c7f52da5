import{_ as m}from"../chunks/DM3QU5AL.js";export{m as component};
