import{_ as m}from"../chunks/_0yAa3fG.js";export{m as component};
