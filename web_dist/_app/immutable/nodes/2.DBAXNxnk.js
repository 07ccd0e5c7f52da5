import{_ as m}from"../chunks/Dyl-bwdl.js";export{m as component};
